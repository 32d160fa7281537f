"""`shopsmart`: the desktop app and the terminal's command-line tools.

shopsmart [--data-dir DIR] [run]            start the register (the default)
shopsmart [--data-dir DIR] import-catalog FILE   import products from CSV or JSON
shopsmart [--data-dir DIR] demo-data [--count N]  load the demo catalog (+ generated up to N)
shopsmart [--data-dir DIR] add-clerk NAME --role manager   (PIN asked for)
shopsmart [--data-dir DIR] status [--json]    what is stored on this till, and its sync
shopsmart [--data-dir DIR] enroll --server URL --code CODE [--till T01]   connect to a server
shopsmart [--data-dir DIR] sync [--until-done]   push and pull now

enroll, sync and status need no person: with an encrypted token file (no OS keyring) its
passphrase comes from $SHOPSMART_TOKEN_PASSPHRASE. Exit status: 0 done; 1 the command could
not start (bad input, not enrolled, no passphrase); 2 sync did not finish (offline, degraded,
token refused …: the reason is on stderr).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.domain.catalog_file import error_report
from app.domain.errors import PosError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsmart", description="ShopSmart POS terminal")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the till keeps its database (default: $SHOPSMART_DATA_DIR or the "
        "platform's user data directory)",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start the register (default)")
    imp = sub.add_parser("import-catalog", help="import products from a CSV or JSON file")
    imp.add_argument("file", type=Path)
    demo = sub.add_parser(
        "demo-data", help="load the demo catalog (the demo server's products), replacing all"
    )
    demo.add_argument(
        "--count",
        type=int,
        default=None,
        help="add generated grocery products up to this many (load tests)",
    )
    demo.add_argument("--seed", type=int, default=42)
    clerk = sub.add_parser("add-clerk", help="create a clerk (the PIN is asked for)")
    clerk.add_argument("name")
    clerk.add_argument("--role", choices=["clerk", "manager"], default="clerk")
    clerk.add_argument("--pin", help="for scripts; omit to be asked without echo")
    status = sub.add_parser("status", help="what is stored on this till, and its sync")
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    status.add_argument(
        "--no-check", action="store_true", help="do not ask the server how the connection is"
    )
    enroll = sub.add_parser("enroll", help="connect this till to a server with a one-time code")
    enroll.add_argument("--server", required=True, help="the server's address (https://…)")
    enroll.add_argument("--code", required=True, help="shopsmart-server terminal enroll-code")
    enroll.add_argument(
        "--till", default=None, help="this till's code in the store (default: its own, T01)"
    )
    sync = sub.add_parser("sync", help="push waiting sales and pull the server's changes")
    sync.add_argument(
        "--until-done", action="store_true", help="go on until nothing is waiting (or fail)"
    )
    sync.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="with --until-done: give up after this many seconds (default 300)",
    )
    return parser


PASSPHRASE_ENV = "SHOPSMART_TOKEN_PASSPHRASE"
EXIT_SYNC_FAILED = 2


class CommandFailed(Exception):
    """The command cannot do what was asked; the message says why (on stderr, exit 1)."""


def _data_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg.expanduser()
    from app.bootstrap import default_data_dir

    return default_data_dir()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = _data_dir(args.data_dir)
    command = args.command or "run"
    if command == "run":
        os.environ["SHOPSMART_DATA_DIR"] = str(data_dir)
        from ui.main import run_app

        return run_app(data_dir)
    from app.bootstrap import open_terminal

    terminal = open_terminal(data_dir)
    try:
        return _run_command(command, args, terminal)
    except PosError as error:
        print(error_report(error), file=sys.stderr)
        return 1
    except CommandFailed as error:
        print(f"shopsmart {command}: {error}", file=sys.stderr)
        return 1
    finally:
        terminal.close()


def _run_command(command: str, args: argparse.Namespace, terminal) -> int:  # type: ignore[no-untyped-def]
    if command == "import-catalog":
        from app.services.catalog_import import import_catalog
        from ui.catalog_file import read_catalog_file

        path: Path = args.file
        text, kind = read_catalog_file(path)
        report = import_catalog(terminal.uow(), text, kind, terminal.store.taxes, terminal.ids)
        print(
            f"imported {report.imported} products from {path.name} "
            f"({report.created} new, {report.updated} updated)"
        )
        return 0
    if command == "demo-data":
        from app.services.demo_catalog import demo_products

        products = demo_products(args.count, seed=args.seed)
        with terminal.uow() as uow:
            uow.products.replace_all(products)
            uow.commit()
        departments = len({p.department for p in products})
        print(f"loaded {len(products)} demo products over {departments} departments")
        return 0
    if command == "add-clerk":
        from app.domain.clerk import Role
        from app.services.clerks import create_clerk

        pin = args.pin or getpass.getpass(f"PIN for {args.name}: ")
        clerk = create_clerk(terminal.uow(), args.name, pin, Role(args.role), terminal.ids)
        print(f"created {clerk.role.value} {clerk.name}")
        return 0
    if command == "status":
        return _status(terminal, as_json=args.json, check=not args.no_check)
    if command == "enroll":
        return _enroll(terminal, args.server, args.code, args.till)
    if command == "sync":
        return _sync(terminal, until_done=args.until_done, timeout_s=args.timeout)
    raise PosError(f"unknown command {command}")


# ---------------------------------------------------------------------- sync commands


def _token_store(terminal, *, enrolling: bool = False):  # type: ignore[no-untyped-def]
    """Where this till's token is, as the till chose (``KEYRING_CHOICE``): the OS keyring;
    the encrypted token file, its passphrase from $SHOPSMART_TOKEN_PASSPHRASE or remembered
    by the OS keyring; or the embedded demo's file (a loopback server only). Enrolling
    without an OS keyring takes the encrypted file. Never a plaintext file otherwise."""
    import keyring.errors

    from sync import credentials
    from sync.enrollment import current_enrollment

    with terminal.read() as uow:
        choice = uow.settings.get(credentials.KEYRING_CHOICE)
    os_keyring = credentials.TokenStore()
    if choice == credentials.KEYRING_DEMO_FILE and not enrolling:
        if not credentials.is_loopback_url(current_enrollment(terminal.read)[0]):
            raise CommandFailed("the demo's token file is only for a server on this computer")
        demo = credentials.DemoFileKeyring(terminal.data_dir / credentials.DEMO_TOKEN_FILE)
        return credentials.TokenStore(demo)
    chosen = choice == credentials.KEYRING_ENCRYPTED_FILE
    if not chosen and (not enrolling or credentials.backend_is_safe(os_keyring.backend)):
        return os_keyring
    passphrase = os.environ.get(PASSPHRASE_ENV, "")
    if not passphrase and chosen:
        passphrase = credentials.remembered_passphrase(terminal.data_dir) or ""
    if not passphrase:
        if chosen:
            raise CommandFailed(
                f"this till keeps its token in an encrypted file: set {PASSPHRASE_ENV} to "
                "its passphrase"
            )
        raise CommandFailed(
            "no secure keyring is available on this computer "
            f"({type(os_keyring.backend).__name__}): set {PASSPHRASE_ENV} to a passphrase "
            "(at least 8 characters) to keep the token in an encrypted file instead"
        )
    try:
        backend = credentials.EncryptedFileKeyring(
            terminal.data_dir / credentials.TOKEN_FILE, passphrase
        )
        backend.get_password("check", "passphrase")  # a wrong passphrase fails here
    except ValueError as error:
        raise CommandFailed(f"{PASSPHRASE_ENV}: {error}") from None
    except keyring.errors.KeyringError as error:
        raise CommandFailed(f"{PASSPHRASE_ENV}: {error}") from None
    return credentials.TokenStore(backend)


def _enroll(terminal, server: str, code: str, till: str | None) -> int:  # type: ignore[no-untyped-def]
    from sync.credentials import (
        KEYRING_CHOICE,
        KEYRING_ENCRYPTED_FILE,
        EncryptedFileKeyring,
        KeyringUnavailable,
    )
    from sync.enrollment import enroll
    from sync.errors import SyncError

    tokens = _token_store(terminal, enrolling=True)
    try:
        enrolled = enroll(terminal.uow, tokens, server, code, till or terminal.store.terminal_code)
    except KeyringUnavailable as error:
        raise CommandFailed(str(error)) from None
    except SyncError as error:
        raise CommandFailed(f"the server did not enroll this till: {error.message}") from None
    in_file = isinstance(tokens.backend, EncryptedFileKeyring)
    with terminal.uow() as uow:  # where sync and status will find the token
        uow.settings.put(KEYRING_CHOICE, KEYRING_ENCRYPTED_FILE if in_file else "")
        uow.commit()
    where = "the encrypted token file" if in_file else "the OS keyring"
    print(
        f"enrolled as {enrolled.terminal_code} of {enrolled.store_name} "
        f"({enrolled.store_code}) at {enrolled.server_url}; the token is in {where}"
    )
    return 0


def _engine(terminal):  # type: ignore[no-untyped-def]
    """The till's sync engine, or None while it is not enrolled."""
    from sync.enrollment import current_enrollment

    url, terminal_id = current_enrollment(terminal.read)
    if not url or not terminal_id:
        return None
    return terminal.open_sync(_token_store(terminal)).engine


def _sync(terminal, *, until_done: bool, timeout_s: float) -> int:  # type: ignore[no-untyped-def]
    """One sync run, or (``until_done``) runs until nothing is waiting and a pull brings
    nothing new. 0 when done; 2 with the reason on stderr when a run failed."""
    import time

    from app.domain.sync import CURSOR_SETTING

    engine = _engine(terminal)
    if engine is None:
        raise CommandFailed("this till is not enrolled: shopsmart enroll --server URL --code CODE")

    def cursor() -> str:
        with terminal.read() as uow:
            return str(uow.settings.get(CURSOR_SETTING))

    deadline = time.monotonic() + timeout_s
    while True:
        before = cursor()
        status = engine.run_once(force=True)
        if status.next_attempt_at is not None:  # the run failed: the engine backs off
            print(
                f"sync {status.state.value}: {status.reason} ({status.waiting} waiting)",
                file=sys.stderr,
            )
            return EXIT_SYNC_FAILED
        done = status.waiting == 0 and cursor() == before
        if not until_done or done:
            break
        if time.monotonic() > deadline:
            print(
                f"sync not done after {timeout_s:g} s: {status.waiting} still waiting",
                file=sys.stderr,
            )
            return EXIT_SYNC_FAILED
    print(
        f"sync {status.state.value}: {status.waiting} waiting, {status.rejected} refused, "
        f"{status.unusable} rows from the server kept aside"
    )
    if status.rejected:
        print(f"{status.rejected} sales were refused by the server: a manager must look at them")
    return 0


def _status(terminal, *, as_json: bool, check: bool) -> int:  # type: ignore[no-untyped-def]
    """What is on this till and how its sync stands. With ``check`` (the default) the server
    is asked once how the connection is (nothing changes)."""
    import json

    from sync.enrollment import current_enrollment

    url, terminal_id = current_enrollment(terminal.read)
    sync_store = terminal.sync_store()
    counts = sync_store.counts()
    last = sync_store.last_success()
    state, reason = "not enrolled", "shopsmart enroll --server URL --code CODE"
    if url and terminal_id:
        state, reason = "not checked", ""
        if check:
            try:
                status = _engine(terminal).probe()
                state, reason = status.state.value, status.reason
            except CommandFailed as error:
                state, reason = "token locked", str(error)
    with terminal.read() as uow:
        report = {
            "data_dir": str(terminal.data_dir),
            "store": {"code": terminal.store.store_code, "name": terminal.store.store_name},
            "terminal": terminal.store.terminal_code,
            "server_url": url or None,
            "terminal_id": terminal_id or None,
            "connection": {"state": state, "reason": reason},
            "waiting": counts.waiting,
            "refused": counts.rejected,
            "quarantined": counts.unusable,
            "clerks": len(uow.clerks.all()),
            "products": uow.products.count(),
            "orders": uow.orders.count(),
            "last_sync": last.isoformat() if last else None,
        }
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"data dir:  {report['data_dir']}")
    print(f"store:     {terminal.store.store_name} ({terminal.store.store_code})")
    print(f"terminal:  {report['terminal']}")
    print(f"server:    {url or '-'}")
    print(f"sync:      {state}" + (f" ({reason})" if reason else ""))
    print(f"products:  {report['products']}")
    print(f"clerks:    {report['clerks']}")
    print(f"orders:    {report['orders']}")
    print(f"to sync:   {counts.waiting}")
    print(f"refused:   {counts.rejected}")
    print(f"kept aside: {counts.unusable} rows from the server")
    print(f"last sync: {report['last_sync'] or 'never'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
