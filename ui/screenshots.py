"""Render the till's screens to PNG (``make screenshots``).

``python -m ui.screenshots OUTDIR`` renders every screen at each counter size of SIZES into
``OUTDIR/<width>x<height>/``, one process per size: each runs the real widgets offscreen on a
throw-away store with the demo catalog, on a virtual screen of that size (Qt's offscreen
platform, configured through a screen file), so dialogs are sized as on that screen.
``python -m ui.screenshots OUTDIR --size 1024x768`` renders one size into OUTDIR itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ui import phone_screenshots

SIZES = ((1024, 768), (1366, 768), (1920, 1080))
MANAGER_PIN = "246810"
SCREENS = (
    "login.png",
    "register.png",
    "register-search.png",
    "pay.png",
    "receipt-dialog.png",
    "receipt.png",
    "history.png",
    "card-qr.png",
    "refund.png",
    "register-online.png",
    "register-refused.png",
    "settings.png",
    "shift-close.png",
    "z-report.png",
    "z-report-sheet.png",
    "z-report-pdf.png",
    "reports.png",
    "reports-tenders.png",
)
"""The files each size's directory gets."""
SCREENS += phone_screenshots.SCREENS


def size_name(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise SystemExit(f"--size wants WIDTHxHEIGHT, e.g. 1366x768, not {text!r}")
    return int(width), int(height)


def screen_platform(size: tuple[int, int], directory: Path) -> str:
    """QT_QPA_PLATFORM for an offscreen screen of ``size`` (a screen file in ``directory``)."""
    screen = {
        "name": f"Counter {size_name(size)}",
        "x": 0,
        "y": 0,
        "width": size[0],
        "height": size[1],
        "logicalDpi": 96,
        "logicalBaseDpi": 96,
        "dpr": 1,
    }
    path = directory / f"screen-{size_name(size)}.json"
    path.write_text(json.dumps({"screens": [screen]}))
    return f"offscreen:configfile={path}"


def render_all_sizes(out: Path, sizes: tuple[tuple[int, int], ...] = SIZES) -> int:
    """One child process per size (a Qt application has one set of screens)."""
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            env = {**os.environ, "QT_QPA_PLATFORM": screen_platform(size, Path(tmp))}
            command = [sys.executable, "-m", "ui.screenshots", str(out / size_name(size))]
            done = subprocess.run([*command, "--size", size_name(size)], env=env, check=False)
            failed += done.returncode != 0
    return 1 if failed else 0


def _wait(app: Any, condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("screen did not get ready in time")
        app.processEvents()
        time.sleep(0.005)


def _settle(app: Any, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def main(argv: list[str]) -> int:
    args = list(argv)
    if "--size" in args:
        at = args.index("--size")
        size = parse_size(args[at + 1] if at + 1 < len(args) else "")
        del args[at : at + 2]
        return render(Path(args[0] if args else "docs/screenshots"), size)
    return render_all_sizes(Path(args[0] if args else "docs/screenshots"))


def render(out: Path, size: tuple[int, int]) -> int:
    """Every screen at ``size`` into ``out``."""
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import open_terminal
    from app.domain.barcode import make_ean13
    from app.domain.cart import Discount, DiscountKind
    from app.domain.clerk import Role
    from app.services.clerks import create_clerk, log_in
    from app.services.receipt import build_receipt
    from ui.main_window import MainWindow
    from ui.picker import FAVOURITES_KEY
    from ui.receipt_view import render_receipt_image
    from ui.sample_catalog import FAVOURITES, barcode_of, sample_products
    from ui.style import STYLESHEET

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["shopsmart-screenshots"])
    app.setStyleSheet(STYLESHEET)
    with tempfile.TemporaryDirectory() as tmp:
        terminal = open_terminal(Path(tmp))
        with terminal.uow() as uow:
            uow.products.replace_all(sample_products())
            uow.settings.put(FAVOURITES_KEY, ",".join(FAVOURITES))
            uow.commit()
        maria = create_clerk(terminal.uow(), "Maria", MANAGER_PIN, Role.MANAGER, terminal.ids)
        create_clerk(terminal.uow(), "Ben", "1357", Role.CLERK, terminal.ids)
        create_clerk(terminal.uow(), "Aisha", "8642", Role.CLERK, terminal.ids)
        window = MainWindow(terminal=terminal, load_demo=False)
        window.resize(*size)
        window.show()
        window.start()
        _wait(
            app, lambda: window.login is not None and window.stack.currentWidget() is window.login
        )
        window.login.select_clerk(maria.id)
        window.login.pin.setText(MANAGER_PIN)
        _wait(app, lambda: window.pending == 0)
        _settle(app)
        window.grab().save(str(out / "login.png"))

        clerk = log_in(terminal.uow(), maria.id, MANAGER_PIN, terminal.clock)
        window._on_logged_in(clerk)
        register = window.register
        for name in (
            "Whole milk 1 L",
            "Sourdough loaf",
            "Free-range eggs, 10",
            "Ground coffee 500 g",
            "Hand soap 300 ml",
            "Red wine, Rioja 0.75 L",
        ):
            register.scan(barcode_of(name))
        register.scan(barcode_of("Whole milk 1 L"))  # a second milk: the line becomes 2 ×
        coffee = next(line for line in register.cart.lines if line.name.startswith("Ground"))
        register.set_cart(
            register.cart.set_line_discount(
                coffee.line_id, Discount(DiscountKind.PERCENT, 1000, "best before soon")
            ),
            coffee.line_id,
        )
        register.scan(make_ean13("28" + "04011" + "00742"))  # scale label: 742 g of bananas
        register.scan(make_ean13("400000099999"))  # unknown: the notice bar
        _settle(app)
        window.grab().save(str(out / "register.png"))
        register.picker.search_field.setText("ba")
        register.picker.run_search()
        _settle(app)
        window.grab().save(str(out / "register-search.png"))

        register.ask_pay()
        pay = register.active_dialog
        assert pay is not None
        pay.add_cash(5000)
        _settle(app)
        pay.grab().save(str(out / "pay.png"))
        sales: list[Any] = []
        register.sale_completed.connect(sales.append)
        pay._on_ok()
        _wait(app, lambda: bool(sales) and register.active_dialog is not None)
        _settle(app)
        receipt_dialog = register.active_dialog
        receipt_dialog.grab().save(str(out / "receipt-dialog.png"))
        render_receipt_image(build_receipt(sales[0], terminal.store)).save(str(out / "receipt.png"))
        receipt_dialog.accept()
        _settle(app)

        window.show_history()
        history = window.history_dialog
        loaded: list[int] = []
        history.loaded.connect(loaded.append)
        _wait(app, lambda: bool(loaded))
        _settle(app)
        history.grab().save(str(out / "history.png"))
        _payment_screens(app, window, terminal, history, sales[0], clerk, out)
        history.accept()
        _settle(app)
        _sync_screens(app, window, terminal, out)
        phone_screenshots.render(app, window, terminal, clerk, out, _wait, _settle)
        _manager_screens(app, window, terminal, clerk, out)
        window.close()
        terminal.close()
    print(f"screenshots at {size_name(size)} written to {out}")
    return 0


class _ShowcaseGateway:
    """Screenshots only: a payment that waits for the customer, as the server would answer."""

    def create_payment(self, payment_id: str, order_id: str, amount: int, currency: str) -> Any:
        from app.domain.card import CardPayment, CardStatus

        return CardPayment(
            payment_id,
            order_id,
            amount,
            currency,
            CardStatus.PENDING,
            pay_url=f"https://pos.example.com/pay/{payment_id[:12]}",
        )

    def get_payment(self, payment_id: str) -> Any:
        raise RuntimeError("not needed for a screenshot")


def _payment_screens(
    app: Any, window: Any, terminal: Any, history: Any, order: Any, clerk: Any, out: Path
) -> None:
    """The card dialog's QR code and the refund dialog's preview."""
    from app.domain.cart import Cart
    from ui.card_dialog import CardPaymentDialog
    from ui.refund_dialog import RefundDialog
    from ui.sample_catalog import barcode_of

    with terminal.read() as uow:
        coffee = uow.products.by_code(barcode_of("Ground coffee 500 g"))
    cart = Cart().add(coffee, 2).with_order_id(terminal.ids.new_id())
    card = CardPaymentDialog(terminal, _ShowcaseGateway(), cart, 1398, clerk, window.runner, window)
    card.show()
    _wait(app, lambda: card.payment is not None)
    card._timer.stop()
    _settle(app)
    card.grab().save(str(out / "card-qr.png"))
    card.done(0)
    history.table.selectRow(0)
    refund = RefundDialog(terminal, window.runner, order, None, history)
    refund.show()
    _wait(app, lambda: refund.plan is not None)
    refund.part.setChecked(True)
    refund.amount_field.setText("5.00")
    _wait(app, lambda: refund.preview.text().startswith("Refund €5.00"))
    _settle(app)
    refund.grab().save(str(out / "refund.png"))
    refund.done(0)


class _StillScheduler:
    """Screenshots only: the scheduler's contract without a thread or a server."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def start(self) -> None: ...

    def kick(self, *, force: bool = False) -> None: ...

    def stop(self) -> None: ...


def _sync_screens(app: Any, window: Any, terminal: Any, out: Path) -> None:
    """The header online, the refused-sales banner, and the server settings dialog."""
    from datetime import UTC, datetime

    from sync.engine import ConnectionState, SyncStatus
    from ui.settings_dialog import SettingsDialog
    from ui.sync_bridge import SyncBridge

    engine = terminal.sync_engine()
    bridge = SyncBridge(_StillScheduler(engine), window)
    window.sync = bridge
    bridge.status_changed.connect(window._on_sync_status)
    now = datetime.now(UTC)
    engine._publish(SyncStatus(ConnectionState.ONLINE, 0, 0, now))
    _settle(app)
    window.grab().save(str(out / "register-online.png"))
    engine._publish(SyncStatus(ConnectionState.DEGRADED, 3, 2, now, "the server failed (HTTP 503)"))
    _settle(app)
    window.grab().save(str(out / "register-refused.png"))
    dialog = SettingsDialog(terminal, bridge, window.runner, window)
    dialog.server_url.setText("https://pos.example.com")
    dialog.code.setText("K7QF2-9XH4M")
    dialog.show()
    _settle(app)
    dialog.grab().save(str(out / "settings.png"))
    dialog.close()
    window.sync = None


class _Clock:
    """Screenshots only: the moment the past week's sales were made."""

    def __init__(self, moment: Any) -> None:
        self.moment = moment

    def now(self) -> Any:
        return self.moment


def _manager_screens(app: Any, window: Any, terminal: Any, clerk: Any, out: Path) -> None:
    """The shift close (its count checked), the provisional Z report it makes (dialog, sheet,
    and its PDF turned to PNG with poppler's pdftoppm), and Reports with real charts over a
    week of sales."""
    import random
    import shutil
    from datetime import UTC, date, datetime, timedelta

    from app.domain.cart import Cart
    from app.domain.order import TenderInput, TenderKind
    from app.domain.shift import CashCount
    from app.services.checkout import complete_sale
    from app.services.shifts import open_shift
    from ui.reports import ReportsDialog
    from ui.sample_catalog import sample_products
    from ui.shift_dialogs import CloseShiftDialog
    from ui.z_report_view import (
        ZReportDialog,
        render_shift_sheet_image,
        save_shift_sheet_pdf,
        z_report_sheet,
    )

    products = [p for p in sample_products() if p.sold_by.value == "each" and p.active]
    picks = random.Random(14)
    today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)

    def sell(clock: Any, lines: int) -> Any:
        cart = Cart(currency=terminal.store.currency)
        for product in picks.sample(products, lines):
            cart = cart.add(product, picks.choice((1, 1, 2)))
        total = cart.totals(terminal.store.taxes).total
        tender = picks.choice(
            (
                [TenderInput(TenderKind.CASH, total)],
                [TenderInput(TenderKind.CARD, total)],
                [TenderInput(TenderKind.CARD, total // 2), TenderInput(TenderKind.CASH, total)],
            )
        )
        return complete_sale(
            terminal.uow(), cart, tender, clerk, terminal.store, clock, terminal.ids
        )

    for day in range(6, 0, -1):  # the past week, before this till used shifts
        for n in range(8 + picks.randrange(10)):
            at = today - timedelta(days=day, minutes=-n * 50 - picks.randrange(40))
            sell(_Clock(at), 1 + picks.randrange(4))
    float_count = CashCount.from_counts(terminal.store.currency, {2000: 5, 1000: 5, 200: 10})
    open_shift(terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, float_count)
    for _sale in range(6):
        sell(terminal.clock, 1 + picks.randrange(3))
    # The server has everything so far; the last two sales are still waiting at the close.
    from app.domain.sync import PushOutcome, ResultStatus

    outbox = terminal.sync_store()
    sent = [event.event_id for event in outbox.pending_events(100_000)]
    outbox.mark_sent(sent)
    outbox.record_results([PushOutcome(event_id, ResultStatus.ACCEPTED) for event_id in sent])
    for _sale in range(2):
        sell(terminal.clock, 1 + picks.randrange(3))

    close = CloseShiftDialog(terminal, window.runner, clerk, window)
    close.show()
    _wait(app, lambda: close.expected is not None)
    short = close.expected - 150  # the drawer is 1.50 short
    counts: dict[int, int] = {}
    for value in (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        counts[value], short = divmod(short, value)
    close.grid.set_counts({value: pieces for value, pieces in counts.items() if pieces})
    close._on_ok()  # Check count: expected, counted and difference before anything closes
    _settle(app)
    close.grab().save(str(out / "shift-close.png"))
    reports: list[Any] = []
    close.closed.connect(reports.append)
    close._on_ok()
    _wait(app, lambda: bool(reports))
    with terminal.read() as uow:
        names = {c.id: c.name for c in uow.clerks.all()}
    sheet = z_report_sheet(reports[0], terminal.store, names)
    z_dialog = ZReportDialog(sheet, window.runner, window)
    z_dialog.show()
    _settle(app)
    z_dialog.grab().save(str(out / "z-report.png"))
    z_dialog.done(0)
    render_shift_sheet_image(sheet).save(str(out / "z-report-sheet.png"))
    pdftoppm = shutil.which("pdftoppm")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = save_shift_sheet_pdf(sheet, Path(tmp) / "z.pdf")
        if pdftoppm is None:
            print("pdftoppm missing (apt-get install poppler-utils): z-report-pdf.png not made")
        else:
            page = Path(tmp) / "page"
            subprocess.run(
                [pdftoppm, "-r", "150", "-png", "-singlefile", str(pdf), str(page)], check=True
            )
            shutil.copyfile(page.with_suffix(".png"), out / "z-report-pdf.png")

    dialog = ReportsDialog(terminal, window.runner, clerk, today=date.today(), parent=window)
    dialog.show()
    for name, file in (("sales-by-day", "reports.png"), ("tenders", "reports-tenders.png")):
        dialog.report_choice.setCurrentIndex(dialog.report_choice.findData(name))
        shown: list[Any] = []
        dialog.report_shown.connect(shown.append)
        dialog.load()
        _wait(app, lambda shown=shown: bool(shown))
        _settle(app)
        dialog.grab().save(str(out / file))
    dialog.done(0)
    _settle(app)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
