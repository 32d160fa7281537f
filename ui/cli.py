"""`shopsmart`: the desktop app and the terminal's command-line tools.

shopsmart [--data-dir DIR] [run]            start the register (the default)
shopsmart [--data-dir DIR] import-catalog FILE   import products from CSV or JSON
shopsmart [--data-dir DIR] demo-data [--count N]  load the demo catalog (+ generated up to N)
shopsmart [--data-dir DIR] add-clerk NAME --role manager   (PIN asked for)
shopsmart [--data-dir DIR] status             what is stored on this till
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
    sub.add_parser("status", help="what is stored on this till")
    return parser


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
        with terminal.read() as uow:
            print(f"data dir:  {terminal.data_dir}")
            print(f"store:     {terminal.store.store_name} ({terminal.store.store_code})")
            print(f"terminal:  {terminal.store.terminal_code}")
            print(f"products:  {uow.products.count()}")
            print(f"orders:    {uow.orders.count()}")
            print(f"to sync:   {uow.outbox.pending_count()}")
        return 0
    raise PosError(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main())
