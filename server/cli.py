"""``shopsmart-server``: run the server and manage stores, terminals, clerks and products.

Configuration comes from the environment (docs/server.md); without DATABASE_URL the server
uses SQLite under SHOPSMART_DATA_DIR.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8765


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopsmart-server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="development server on 127.0.0.1 (migrates first)")
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument(
        "--with-worker",
        action="store_true",
        help="also run the mail dispatcher in the server process (or SHOPSMART_RUN_WORKER=1)",
    )

    worker = sub.add_parser(
        "worker",
        help="send the mail outbox (SES, or .eml files); announce catalog writes a crash "
        "left unannounced",
    )
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument("--interval", type=float, default=None, help="seconds between polls")

    mail = sub.add_parser("mail", help="the mail outbox").add_subparsers(
        dest="action", required=True
    )
    listing = mail.add_parser("list", help="outbox rows, newest first")
    listing.add_argument(
        "--failed", action="store_true", help="only failed and unknown (need a person)"
    )
    listing.add_argument("--limit", type=int, default=50)
    retry = mail.add_parser("retry", help="queue a failed or unknown e-mail again")
    retry.add_argument("mail_id", type=int)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply the Alembic migrations up to head")

    store = sub.add_parser("store", help="stores").add_subparsers(dest="action", required=True)
    create = store.add_parser("create", help="create a store")
    create.add_argument("--code", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--currency", default="EUR")
    zone = store.add_parser(
        "set-time-zone", help="the store's time zone (IANA); its report summaries are summed again"
    )
    zone.add_argument("--store", required=True)
    zone.add_argument("--time-zone", required=True, help="e.g. Europe/Dublin")
    rebuild = store.add_parser(
        "rebuild-reports", help="sum the store's report summaries again from its orders"
    )
    rebuild.add_argument("--store", required=True)

    terminal = sub.add_parser("terminal", help="terminals").add_subparsers(
        dest="action", required=True
    )
    code = terminal.add_parser("enroll-code", help="print a one-time enrollment code")
    code.add_argument("--store", required=True)
    code.add_argument("--ttl-minutes", type=int, default=None)
    revoke = terminal.add_parser("revoke", help="revoke a terminal's token")
    revoke.add_argument("terminal_id")
    terminals = terminal.add_parser(
        "list", help="terminals: id, store, code, state, enrolled, last push"
    )
    terminals.add_argument("--store", help="only this store's terminals")
    terminals.add_argument("--json", action="store_true", help="a JSON list instead of lines")

    order = sub.add_parser("order", help="orders").add_subparsers(dest="action", required=True)
    orders = order.add_parser("list", help="a store's orders, newest first")
    orders.add_argument("--store", required=True)
    orders.add_argument("--since", help="paid at or after (ISO date or time, UTC unless given)")
    orders.add_argument("--limit", type=int, default=100)
    orders.add_argument("--json", action="store_true", help="a JSON list instead of lines")

    clerk = sub.add_parser("clerk", help="clerks").add_subparsers(dest="action", required=True)
    add = clerk.add_parser("add", help="add a clerk with a PIN")
    add.add_argument("--store", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=["clerk", "manager"], default="clerk")
    add.add_argument("--pin", required=True)
    deactivate = clerk.add_parser("deactivate", help="a clerk who left: terminals refuse the PIN")
    deactivate.add_argument("clerk_id")
    set_pin = clerk.add_parser(
        "set-pin",
        help="a new PIN (managers: 6-8 digits); tills pull it, and it unlocks a clerk a till "
        "locked out after wrong PINs",
    )
    set_pin.add_argument("clerk_id")
    set_pin.add_argument("--pin", required=True)
    clerks = clerk.add_parser("list", help="a store's clerks: id, name, role, active")
    clerks.add_argument("--store", required=True)

    slot = sub.add_parser("slot", help="delivery slots").add_subparsers(
        dest="action", required=True
    )
    slot_add = slot.add_parser("add", help="add a delivery window to a store")
    slot_add.add_argument("--store", required=True)
    slot_add.add_argument(
        "--starts-at", required=True, help="ISO date and time (UTC unless an offset is given)"
    )
    slot_add.add_argument("--minutes", type=int, default=120, help="how long the window is")
    slot_add.add_argument("--capacity", type=int, required=True, help="in --unit")
    slot_add.add_argument("--unit", choices=["orders", "items"], default="orders")
    slot_add.add_argument(
        "--cutoff-minutes", type=int, default=0, help="no booking later than this before start"
    )
    slot_add.add_argument(
        "--lead-time-minutes", type=int, default=0, help="the store needs this long to pick"
    )
    slot_add.add_argument("--max-weight-g", type=int, default=None, help="a weight cap (grams)")
    slot_add.add_argument(
        "--postcodes", default="", help="comma-separated postcode prefixes served (default: any)"
    )
    slot_list = slot.add_parser(
        "list", help="a store's upcoming slots: id, window, unit, capacity, booked, held, free"
    )
    slot_list.add_argument("--store", required=True)

    product = sub.add_parser("product", help="catalog").add_subparsers(dest="action", required=True)
    imp = product.add_parser(
        "import",
        help="import a catalog file (.csv, .json, .jsonl; README 'Catalog files'), all or nothing",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--store", help="also set this store's stock from the stock column")

    sub.add_parser(
        "demo", help="load a demo store with clerks, the demo catalog, stock and delivery slots"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from app.domain.catalog_file import error_report
    from app.domain.errors import PosError
    from server.admin.service import AdminError
    from server.config import Config, ConfigError

    try:
        config = Config.from_env()
    except ConfigError as exc:  # a variable that does not fit: say which, start nothing
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "run":
            return _run(config, args.port, args.with_worker or config.run_worker)
        if args.command == "worker":
            return _worker(config, args.once, args.interval)
        if args.command == "mail":
            return _mail(config, args)
        if args.command in ("terminal", "order") and args.action == "list":
            return _listing(config, args)
        if args.command == "db":
            for line in upgrade_schema(config):
                print(line)
            print("database is at the newest schema")
            return 0
        return _admin(config, args)
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except PosError as exc:  # a refused product file: every problem, row by row
        print(error_report(exc), file=sys.stderr)
        return 1


# The first revision with report summaries: orders stored before it are summed into them by
# the upgrade that crosses it (server/reports/summaries.rebuild_summaries).
REPORT_SUMMARIES_REVISION = 12


def upgrade_schema(config: Any) -> list[str]:
    """Migrate to the newest schema. An upgrade from before the report summaries existed sums
    them from every store's orders in the same run, so the reports count the orders stored
    before it without a step of the operator's. Returns what it did beyond migrating."""
    from server.db import schema_revision, upgrade_database

    before = schema_revision(config.sqlalchemy_url)
    upgrade_database(config.sqlalchemy_url)
    if before is None or int(before) >= REPORT_SUMMARIES_REVISION:
        return []
    from sqlalchemy import select

    from server.app import create_app
    from server.db import unit_of_work
    from server.models import Order, Store
    from server.reports.summaries import rebuild_summaries

    svc = create_app(config).extensions["shopsmart"]
    done = []
    try:
        with unit_of_work(svc.sessions) as session:
            stores = session.execute(
                select(Store.id, Store.code)
                .where(select(Order.id).where(Order.store_id == Store.id).exists())
                .order_by(Store.code)
            ).all()
            for store_id, code in stores:
                rebuild_summaries(session, store_id, svc.catalog(session))
                done.append(f"store {code}: report summaries summed from its orders")
    finally:
        svc.close()
    return done


def _run(config: Any, port: int, with_worker: bool = False) -> int:
    from server.app import create_app

    if not config.public_url:  # serving 127.0.0.1 only: pay links point at this address
        config = config.replace(public_url=f"http://127.0.0.1:{port}")
    for line in upgrade_schema(config):
        print(line)
    app = create_app(config)
    if with_worker:
        from server.worker import start_in_thread

        svc = app.extensions["shopsmart"]
        start_in_thread(_dispatcher(config, svc), config.mail_poll_seconds, svc)
    app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False, threaded=True)
    return 0


def _dispatcher(config: Any, svc: Any) -> Any:
    from server.mail.dispatch import MailDispatcher, env_pause_hook
    from server.mail.mailer import mailer_from_config

    return MailDispatcher(
        svc.sessions,
        mailer_from_config(config),
        lease_seconds=config.mail_lease_seconds,
        max_attempts=config.mail_max_attempts,
        retry_base_seconds=config.mail_retry_base_seconds,
        pause_hook=env_pause_hook(),
    )


def _worker(config: Any, once: bool, interval: float | None) -> int:
    from server.db import make_engine, make_session_factory
    from server.services import Services
    from server.worker import main_loop

    engine = make_engine(config.sqlalchemy_url, 2)
    svc = Services(config, engine, make_session_factory(engine), rate_limiter=None)  # type: ignore[arg-type]
    try:
        return main_loop(_dispatcher(config, svc), once, interval or config.mail_poll_seconds, svc)
    finally:
        engine.dispose()


def _mail(config: Any, args: argparse.Namespace) -> int:
    from sqlalchemy import select, update

    from server.admin.service import AdminError
    from server.db import make_engine, make_session_factory, unit_of_work
    from server.mail.dispatch import describe
    from server.models import MailOutbox

    engine = make_engine(config.sqlalchemy_url, 1)
    sessions = make_session_factory(engine)
    try:
        if args.action == "list":
            query = select(MailOutbox).order_by(MailOutbox.id.desc()).limit(args.limit)
            if args.failed:
                query = query.where(MailOutbox.status.in_(("failed", "unknown")))
            with sessions() as session:
                for row in session.scalars(query):
                    print(describe(row))
            return 0
        with unit_of_work(sessions) as session:
            done = session.execute(
                update(MailOutbox)
                .where(MailOutbox.id == args.mail_id, MailOutbox.status.in_(("failed", "unknown")))
                .values(status="queued", attempts=0, next_attempt_at=datetime.now(UTC))
                .returning(MailOutbox.id)
            ).first()
        if done is None:
            raise AdminError(f"no failed or unknown e-mail {args.mail_id}")
        print(f"e-mail {args.mail_id} queued again")
        return 0
    finally:
        engine.dispose()


def _listing(config: Any, args: argparse.Namespace) -> int:
    import json

    from server.admin import listing
    from server.db import make_engine, make_session_factory

    engine = make_engine(config.sqlalchemy_url, 1)
    try:
        with make_session_factory(engine)() as session:
            if args.command == "terminal":
                rows = listing.list_terminals(session, args.store)
                line = listing.terminal_line
            else:
                since = listing.parse_since(args.since) if args.since else None
                rows = listing.list_orders(session, args.store, since, args.limit)
                line = listing.order_line
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(line(row))
    return 0


def _admin(config: Any, args: argparse.Namespace) -> int:
    from server.admin import service as admin
    from server.app import create_app
    from server.db import unit_of_work
    from server.terminals.auth import create_enroll_code, revoke_terminal

    app = create_app(config)
    svc = app.extensions["shopsmart"]
    try:
        with unit_of_work(svc.sessions) as session:
            if args.command == "store" and args.action in ("set-time-zone", "rebuild-reports"):
                print(_store_reports(session, svc, args))
            elif args.command == "store":
                store = admin.create_store(session, args.code, args.name, args.currency)
                print(f"store {store.code} created ({store.id})")
            elif args.command == "terminal" and args.action == "enroll-code":
                store = admin.store_by_code(session, args.store)
                ttl = timedelta(minutes=args.ttl_minutes or config.enroll_code_ttl_minutes)
                code = create_enroll_code(session, store.id, ttl)
                print(code)
            elif args.command == "terminal":
                try:
                    terminal_id = uuid.UUID(args.terminal_id)
                except ValueError:
                    raise admin.AdminError(f"{args.terminal_id} is not a terminal id") from None
                if not revoke_terminal(session, terminal_id):
                    raise admin.AdminError(f"no active terminal {terminal_id}")
                print(f"terminal {terminal_id} revoked")
            elif args.command == "clerk" and args.action == "deactivate":
                found = admin.clerk_by_id(session, args.clerk_id)
                admin.deactivate_clerk(session, found)
                print(f"clerk {found.name} deactivated")
            elif args.command == "clerk" and args.action == "set-pin":
                found = admin.clerk_by_id(session, args.clerk_id)
                admin.set_clerk_pin(session, found, args.pin)
                print(f"new PIN set for {found.name}: tills take it at their next sync")
            elif args.command == "clerk" and args.action == "list":
                for found in admin.list_clerks(session, admin.store_by_code(session, args.store)):
                    state = "active" if found.active else "inactive"
                    print(f"{found.id}\t{found.name}\t{found.role}\t{state}")
            elif args.command == "clerk":
                store = admin.store_by_code(session, args.store)
                clerk = admin.add_clerk(session, store, args.name, args.role, args.pin)
                print(f"clerk {clerk.name} ({clerk.role}) added: {clerk.id}")
            elif args.command == "product":
                text, kind = read_catalog_file(args.file)
                stock_for = admin.store_by_code(session, args.store) if args.store else None
                print(admin.import_products(session, svc.catalog(session), text, kind, stock_for))
            elif args.command == "slot" and args.action == "add":
                print(_add_slot(session, args))
            elif args.command == "slot":
                for line in _slot_lines(session, admin.store_by_code(session, args.store)):
                    print(line)
            elif args.command == "demo":
                print(load_demo(session, svc, config))
    finally:
        svc.close()
    return 0


def _store_reports(session: Any, svc: Any, args: argparse.Namespace) -> str:
    from server.admin import service as admin
    from server.reports.summaries import rebuild_summaries, set_store_time_zone

    store = admin.store_by_code(session, args.store)
    if args.action == "set-time-zone":
        set_store_time_zone(session, store.id, args.time_zone, svc.catalog(session))
        return f"store {store.code} is in {args.time_zone}; its report summaries are summed again"
    rebuild_summaries(session, store.id, svc.catalog(session))
    return f"store {store.code}: report summaries summed again from its orders"


def _add_slot(session: Any, args: argparse.Namespace) -> str:
    from server.admin import service as admin

    try:
        starts_at = datetime.fromisoformat(args.starts_at)
    except ValueError:
        raise admin.AdminError(
            f"--starts-at {args.starts_at!r} is not an ISO date and time"
        ) from None
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=UTC)
    slot = admin.add_delivery_slot(
        session,
        admin.store_by_code(session, args.store),
        starts_at,
        timedelta(minutes=args.minutes),
        args.capacity,
        unit=args.unit,
        cutoff_minutes=args.cutoff_minutes,
        lead_time_minutes=args.lead_time_minutes,
        max_weight_g=args.max_weight_g,
        postcode_prefixes=[p for p in args.postcodes.split(",") if p.strip()],
    )
    return f"slot {slot.id} added: {_slot_line(slot)}"


def _slot_line(slot: Any) -> str:
    free = max(0, slot.capacity - slot.booked - slot.held)
    rules = [f"cut-off {slot.cutoff_minutes} min", f"lead time {slot.lead_time_minutes} min"]
    if slot.max_weight_g is not None:
        rules.append(f"at most {slot.max_weight_g} g")
    rules.append("postcodes " + (",".join(slot.postcode_prefixes) or "any"))
    return (
        f"{slot.starts_at.astimezone(UTC):%Y-%m-%d %H:%M}–{slot.ends_at.astimezone(UTC):%H:%M} UTC"
        f"\t{slot.capacity} {slot.unit}\tbooked {slot.booked}\theld {slot.held}\tfree {free}"
        f"\t{'; '.join(rules)}{'' if slot.active else ' (closed)'}"
    )


def _slot_lines(session: Any, store: Any) -> list[str]:
    from server.delivery.slots import upcoming_slots

    return [
        f"{slot.id}\t{_slot_line(slot)}"
        for slot in upcoming_slots(session, store.id, datetime.now(UTC))
    ]


def read_catalog_file(path: Path) -> tuple[str, str]:
    """(text, kind) of a catalog file; an AdminError naming the file otherwise."""
    from app.domain.catalog_file import catalog_kind
    from server.admin.service import AdminError

    kind = catalog_kind(path.name)
    try:
        return path.read_text(encoding="utf-8-sig"), kind
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminError(f"cannot read {path}: {exc}") from None


def load_demo(session: Any, svc: Any, config: Any) -> str:
    """A demo store (code DEMO) a terminal can enroll into; safe to run again."""
    from sqlalchemy import select

    from app.data import (
        DEMO_CLERKS,
        DEMO_STORE_CODE,
        demo_catalog_rows,
        demo_catalog_text,
        demo_clerks_text,
    )
    from server.admin import service as admin
    from server.models import Store
    from server.terminals.auth import create_enroll_code

    store = session.scalar(select(Store).where(Store.code == DEMO_STORE_CODE))
    if store is None:
        store = admin.create_store(session, DEMO_STORE_CODE, "ShopSmart Demo Grocery")
        for clerk in DEMO_CLERKS:
            admin.add_clerk(session, store, clerk.name, clerk.role, clerk.pin)
        # the till's demo catalog, the same file: same ids, barcodes, prices and stock
        admin.import_products(session, svc.catalog(session), demo_catalog_text(), "csv", store)
        tomorrow = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        for hour in (9, 12, 17):
            admin.add_delivery_slot(
                session, store, tomorrow.replace(hour=hour), timedelta(hours=2), capacity=8
            )
    code = create_enroll_code(session, store.id, timedelta(minutes=config.enroll_code_ttl_minutes))
    return (
        f"demo store {DEMO_STORE_CODE} ready: clerks {demo_clerks_text()}, "
        f"{len(demo_catalog_rows())} products\nenrollment code: {code}"
    )


if __name__ == "__main__":
    sys.exit(main())
