"""Phone orders through the real widgets on a real SQLite till, offline (no server): the
phone-order screen, the slot picker, the queue, the picking screen and the reconcile list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert, select, update

from app.domain.cart import Cart
from app.domain.delivery import (
    Address,
    BookingStatus,
    FulfilmentState,
    PaymentMethod,
    PickStatus,
    Substitution,
)
from app.services import phone_orders
from local_db.models import OUTBOX, SLOTS
from local_db.phone_orders import PHONE_ORDERS, SLOT_ALLOTMENTS
from tests.ui.conftest import add_clerk
from tests.ui.test_register_flow import TIMEOUT, log_in
from ui.dialogs import QuantityDialog
from ui.phone_order import (
    CustomerDialog,
    LineChoice,
    PhoneOrderDialog,
    ProductSearchDialog,
    ReadBackDialog,
    SubstitutionDialog,
)
from ui.phone_queue import PhoneQueueDialog
from ui.picking import PickingDialog
from ui.reconcile import ReconcileDialog
from ui.sample_catalog import barcode_of
from ui.slot_picker import slot_text

PIN = "246810"
FIRM_SLOT = "0194a000-0000-7000-8000-00000000a001"
PROVISIONAL_SLOT = "0194a000-0000-7000-8000-00000000a002"
FULL_SLOT = "0194a000-0000-7000-8000-00000000a003"
LATE_SLOT = "0194a000-0000-7000-8000-00000000a004"


def tomorrow_at(hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def seed_slots(terminal: Any) -> None:
    """Slots as a pull leaves them on the till: one within this till's allotment (firm),
    one with room but no allotment left (provisional), one full, one past its cut-off."""
    rows = [
        (FIRM_SLOT, tomorrow_at(10), 10, 4, 6, 2, 0),
        (PROVISIONAL_SLOT, tomorrow_at(14), 10, 7, 3, 0, 0),
        (FULL_SLOT, tomorrow_at(18), 10, 10, 0, 0, 0),
        (LATE_SLOT, datetime.now(UTC) + timedelta(minutes=30), 10, 0, 10, 5, 60),
    ]
    engine = terminal.database.writer
    with engine.begin() as connection:
        if connection.execute(select(SLOTS.c.id).where(SLOTS.c.id == FIRM_SLOT)).first():
            return
        for slot_id, starts, capacity, booked, free, allotted, cutoff in rows:
            connection.execute(
                insert(SLOTS).values(
                    id=slot_id,
                    starts_at=starts.isoformat(),
                    ends_at=(starts + timedelta(hours=2)).isoformat(),
                    capacity=capacity,
                    booked=booked,
                    active=True,
                    unit="orders",
                    max_weight_g=None,
                    cutoff_minutes=cutoff,
                    lead_time_minutes=0,
                    postcode_prefixes="[]",
                    free=free,
                )
            )
            connection.execute(
                insert(SLOT_ALLOTMENTS).values(slot_id=slot_id, allotted_total=allotted, used=0)
            )


@pytest.fixture
def phone_till(qtbot: Any, open_window: Any, terminal: Any) -> Any:
    add_clerk(terminal, "Maria", PIN, manager=True)
    seed_slots(terminal)
    window = open_window()
    log_in(qtbot, window, "Maria", PIN)
    return window


def focus(qtbot: Any, widget: Any) -> None:
    try:
        qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=TIMEOUT)
    except Exception as error:
        where = f"{QApplication.focusWidget()!r} in {QApplication.activeWindow()!r}"
        raise AssertionError(f"focus not on {widget!r} but on {where}") from error


def type_enter(qtbot: Any, widget: Any, text: str) -> None:
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def key(
    qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def child(qtbot: Any, owner: Any, kind: type) -> Any:
    qtbot.waitUntil(lambda: isinstance(owner.child_dialog, kind), timeout=TIMEOUT)
    dialog = owner.child_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=TIMEOUT)
    return dialog


def outbox_types(terminal: Any) -> list[str]:
    with terminal.database.reader.connect() as connection:
        rows = connection.execute(select(OUTBOX).order_by(OUTBOX.c.seq)).all()
    return [row.event_type for row in rows]


def test_new_customer_weighed_item_with_substitution_in_a_firm_slot_is_saved_offline(
    qtbot: Any, phone_till: Any, terminal: Any
) -> None:
    window = phone_till
    register = window.register
    focus(qtbot, register.scan_field)
    qtbot.keyClick(register.scan_field, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: isinstance(window.phone_order_dialog, PhoneOrderDialog), timeout=TIMEOUT
    )
    screen: PhoneOrderDialog = window.phone_order_dialog
    focus(qtbot, screen.customer_search)

    # Nobody with that number on the till yet: F3 creates the customer, offline.
    with qtbot.waitSignal(screen.customers_shown, timeout=TIMEOUT):
        type_enter(qtbot, screen.customer_search, "087 123 4567")
    assert "No customer found" in screen.customer_label.text()
    key(qtbot, Qt.Key.Key_F3)
    customer = child(qtbot, screen, CustomerDialog)
    assert customer.phone_field.text() == "087 123 4567"  # what was searched for
    address = customer.addresses[0].fields
    qtbot.keyClicks(customer.name_field, "Aoife Byrne")
    qtbot.keyClicks(customer.email_field, "aoife@example.com")
    qtbot.keyClicks(address["city"], "Howth")
    qtbot.keyClick(address["city"], Qt.Key.Key_Return)  # no street: named as its caption
    assert customer.error.text() == "Address 1: street and number is required"
    focus(qtbot, address["line1"])
    qtbot.keyClicks(address["line1"], "4 Harbour Road")
    qtbot.keyClick(address["line1"], Qt.Key.Key_Return)  # postcode missing: named, not saved
    assert customer.isVisible() and customer.error.text() == "Address 1: postcode is required"
    focus(qtbot, address["postcode"])
    qtbot.keyClicks(address["postcode"], "D13 X1Y2")
    with qtbot.waitSignal(customer.saved, timeout=TIMEOUT):
        qtbot.keyClick(address["postcode"], Qt.Key.Key_Return)
    assert screen.customer is not None and screen.customer.phone == "+353871234567"
    focus(qtbot, screen.scan_field)

    # A weighed item, scanned by its PLU: its estimated weight is asked; then F5 sets what
    # replaces it when out of stock (a specific product, with a note).
    type_enter(qtbot, screen.scan_field, "4011")
    weight = child(qtbot, screen, QuantityDialog)
    assert "Estimated weight" in weight.windowTitle()
    type_enter(qtbot, weight.field, "600")
    qtbot.waitUntil(lambda: len(screen.cart.lines) == 1, timeout=TIMEOUT)
    focus(qtbot, screen.scan_field)
    key(qtbot, Qt.Key.Key_F5)
    choice = child(qtbot, screen, SubstitutionDialog)
    key(qtbot, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(choice.search_dialog, ProductSearchDialog), timeout=TIMEOUT)
    search = choice.search_dialog
    focus(qtbot, search.picker.search_field)
    with qtbot.waitSignal(search.picker.results_shown, timeout=TIMEOUT):
        qtbot.keyClicks(search.picker.search_field, "apples gala")
    with qtbot.waitSignal(search.accepted, timeout=TIMEOUT):
        qtbot.keyClick(search.picker.search_field, Qt.Key.Key_Return)
    focus(qtbot, choice.note_field)
    type_enter(qtbot, choice.note_field, "ripe ones")
    qtbot.waitUntil(lambda: screen.child_dialog is None, timeout=TIMEOUT)
    line_id = screen.cart.lines[0].line_id
    assert screen.model.choices[line_id].substitution is Substitution.SPECIFIC
    assert "Apples Gala" in screen.model.index(0, 5).data()

    focus(qtbot, screen.scan_field)
    type_enter(qtbot, screen.scan_field, barcode_of("Whole milk 1 L"))
    qtbot.waitUntil(lambda: len(screen.cart.lines) == 2, timeout=TIMEOUT)

    # The slots: only open ones (the one past its cut-off is not offered); firm within
    # this till's allotment, provisional past it, full ones greyed.
    qtbot.waitUntil(lambda: screen.slot_picker.cell(FIRM_SLOT) is not None, timeout=TIMEOUT)
    picker = screen.slot_picker
    assert picker.cell(LATE_SLOT) is None
    assert "firm" in picker.cell(FIRM_SLOT).text()
    assert "provisional" in picker.cell(PROVISIONAL_SLOT).text()
    assert not picker.cell(FULL_SLOT).isEnabled() and "full" in picker.cell(FULL_SLOT).text()
    key(qtbot, Qt.Key.Key_F8)  # the first bookable slot is chosen; arrows move the choice
    focus(qtbot, picker.cell(FIRM_SLOT))
    assert picker.selected is not None and picker.selected.slot.id == FIRM_SLOT
    key(qtbot, Qt.Key.Key_Right)
    assert picker.selected.slot.id == PROVISIONAL_SLOT and "provisional" in screen.summary.text()
    key(qtbot, Qt.Key.Key_Left)
    assert picker.selected.slot.id == FIRM_SLOT
    assert "(firm)" in screen.summary.text()

    # F12: the read-back to confirm with the caller; Enter saves.
    key(qtbot, Qt.Key.Key_F12)
    read_back = child(qtbot, screen, ReadBackDialog)
    text = read_back.text.toPlainText()
    assert "Aoife Byrne" in text and "Bananas" in text and "estimated weight" in text
    assert "4 Harbour Road" in text and "cash at the door" in text
    with qtbot.waitSignal(screen.saved, timeout=TIMEOUT) as saved:
        key(qtbot, Qt.Key.Key_Return)
    order = saved.args[0]
    qtbot.waitUntil(lambda: window.phone_order_dialog is None, timeout=TIMEOUT)
    assert order.booking_status is BookingStatus.FIRM and order.slot_id == FIRM_SLOT
    assert "saved (slot booked firm)" in register.notice.text()
    focus(qtbot, register.scan_field)

    with terminal.read() as uow:
        stored = uow.phone_orders.get(order.id)
        customer_row = uow.customers.get(order.customer.id)
    assert stored is not None and customer_row is not None
    assert [(ln.name, ln.quantity, ln.substitution, ln.note) for ln in stored.lines] == [
        ("Bananas, loose", 600, Substitution.SPECIFIC, "ripe ones"),
        ("Whole milk 1 L", 1, Substitution.BEST_MATCH, ""),
    ]
    assert stored.lines[0].substitute_product_id == "demo-apples-gala"
    assert customer_row.addresses[0].postcode == "D13 X1Y2"
    # One transaction: the new customer's event first, then the order's.
    assert outbox_types(terminal) == ["customer.saved", "phone_order.placed"]


def place(terminal: Any, slot_id: str, grams: int = 600, *, weighed: bool = True) -> Any:
    """A phone order saved through the service, as the screen saves it (a new customer
    without an e-mail address, bananas by estimated weight and a milk)."""
    seed_slots(terminal)
    with terminal.read() as uow:
        bananas = uow.products.by_code("4011")
        milk = uow.products.by_code(barcode_of("Whole milk 1 L"))
        clerk = uow.clerks.all()[0]
    cart = Cart(currency="EUR").add(milk)
    if weighed:
        cart = Cart(currency="EUR").add(bananas, grams).add(milk)
    draft = phone_orders.PhoneOrderDraft(
        customer_id="",
        address_id="",
        cart=cart,
        slot_id=slot_id,
        payment_method=PaymentMethod.DOOR_CASH,
        new_customer=phone_orders.CustomerDraft(
            name="Ciarán Walsh",
            phone="+353 86 765 4321",
            addresses=(Address("", "Home", "9 Quay Street", "", "H91 AB12", "Galway", "IE"),),
            id=terminal.ids.new_id(),
        ),
    )
    return phone_orders.place_phone_order(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, draft
    )


def move_booking(terminal: Any, order_id: str) -> None:
    """What a pull brings when the server moved a provisional booking to the firm slot."""
    with terminal.database.writer.begin() as connection:
        connection.execute(
            update(PHONE_ORDERS)
            .where(PHONE_ORDERS.c.id == order_id)
            .values(
                booking_status="moved",
                moved_from_slot_id=PROVISIONAL_SLOT,
                moved_from_starts_at=tomorrow_at(14).isoformat(),
                slot_id=FIRM_SLOT,
                slot_starts_at=tomorrow_at(10).isoformat(),
                slot_ends_at=tomorrow_at(12).isoformat(),
            )
        )


def test_provisional_booking_is_shown_as_such_in_the_queue_and_moves_step_by_step(
    qtbot: Any, phone_till: Any, terminal: Any
) -> None:
    window = phone_till
    order = place(terminal, PROVISIONAL_SLOT)
    assert order.booking_status is BookingStatus.PROVISIONAL
    focus(qtbot, window.register.scan_field)
    qtbot.keyClick(
        window.register.scan_field,
        Qt.Key.Key_P,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(
        lambda: isinstance(window.phone_queue_dialog, PhoneQueueDialog), timeout=TIMEOUT
    )
    queue: PhoneQueueDialog = window.phone_queue_dialog
    qtbot.waitUntil(lambda: queue.orders != [], timeout=TIMEOUT)
    row = [queue.table.item(0, c).text() for c in range(queue.table.columnCount())]
    assert row[1] == order.order_no and row[3] == "received" and row[4] == "provisional"
    assert "waiting" in row[7]
    assert queue.ok_button.text() == "Enter: Start picking"
    assert set(queue.move_buttons) == {FulfilmentState.CANCELLED}  # the legal others

    # An illegal move is refused on this till with its reason; nothing changes.
    with qtbot.waitSignal(queue.refused, timeout=TIMEOUT) as refused:
        queue.move(order, FulfilmentState.OUT_FOR_DELIVERY)
    assert "cannot become out for delivery" in refused.args[0] and queue.error.isVisible()
    assert queue.table.item(0, 3).text() == "received"

    # Enter: start picking, and the picking screen opens.
    focus(qtbot, queue.table)
    with qtbot.waitSignal(queue.moved, timeout=TIMEOUT):
        key(qtbot, Qt.Key.Key_Return)
    picking = child(qtbot, queue, PickingDialog)
    picking.reject()
    qtbot.waitUntil(lambda: queue.child_dialog is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: queue.table.item(0, 3).text() == "picking", timeout=TIMEOUT)
    assert set(queue.move_buttons) == {FulfilmentState.RECEIVED, FulfilmentState.CANCELLED}

    # The server refused this till's move (another till overtook it): the row says why.
    with terminal.database.writer.begin() as connection:
        connection.execute(
            update(PHONE_ORDERS)
            .where(PHONE_ORDERS.c.id == order.id)
            .values(sync_state="rejected", sync_error="transition_overtaken: it is ready already")
        )
    with qtbot.waitSignal(queue.loaded, timeout=TIMEOUT):
        queue.reload()
    assert queue.table.item(0, 7).text() == "● refused: transition_overtaken: it is ready already"
    assert "Refused by the server" in queue.detail.text()
    queue.reject()
    qtbot.waitUntil(lambda: window.phone_queue_dialog is None, timeout=TIMEOUT)

    # On sync the server moved the provisional booking: the reconcile list has the
    # customer's phone and a script, until staff mark the customer told (Enter).
    move_booking(terminal, order.id)
    window.show_reconcile()
    dialog = window.reconcile_dialog
    assert isinstance(dialog, ReconcileDialog)
    qtbot.waitUntil(lambda: dialog.orders != [], timeout=TIMEOUT)
    focus(qtbot, dialog.table)
    assert dialog.table.item(0, 2).text() == "+353867654321"
    script = dialog.script.text()
    assert script.startswith("Hello Ciarán") and order.order_no in script
    assert slot_text(tomorrow_at(10), tomorrow_at(12)) in script  # in the till's time
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT) as loaded:
        key(qtbot, Qt.Key.Key_Return)
    assert loaded.args[0] == 0 and "Nobody to call" in dialog.intro.text()
    with terminal.read() as uow:
        assert uow.phone_orders.to_reconcile() == []
    dialog.reject()


def test_picking_a_lighter_weight_lowers_the_total(
    qtbot: Any, phone_till: Any, terminal: Any
) -> None:
    window = phone_till
    order = place(terminal, FIRM_SLOT, grams=1000)
    moved = phone_orders.transition_phone_order(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        window.clerk,
        order.id,
        FulfilmentState.PICKING,
    )
    queue = PhoneQueueDialog(terminal, window.runner, window.clerk, window)
    queue.open()
    qtbot.waitUntil(lambda: queue.orders != [], timeout=TIMEOUT)
    queue.pick(moved)
    picking = child(qtbot, queue, PickingDialog)
    focus(qtbot, picking.table)
    estimated = picking.picked_total
    assert picking.table.item(0, 4).text() == "weigh it"
    key(qtbot, Qt.Key.Key_Return)  # Enter on a line still to weigh asks its weight
    weight = child(qtbot, picking, QuantityDialog)
    with qtbot.waitSignal(picking.total_changed, timeout=TIMEOUT) as changed:
        type_enter(qtbot, weight.field, "750")
    bananas_at_1kg = 189
    assert changed.args[0] == estimated - bananas_at_1kg + round(189 * 0.75)
    assert picking.total_label.text() == "€2.51"
    with qtbot.waitSignal(picking.saved, timeout=TIMEOUT) as saved:
        focus(qtbot, picking.table)
        key(qtbot, Qt.Key.Key_Return)
    picked = saved.args[0]
    assert picked.actual_total == changed.args[0] < order.estimated_total
    assert [(p.status, p.quantity) for p in picked.picked] == [
        (PickStatus.PICKED, 750),
        (PickStatus.PICKED, 1),
    ]
    assert outbox_types(terminal)[-1] == "phone_order.picked"
    queue.reject()


def test_phone_screens_cut_no_text_at_the_counter_sizes(
    qtbot: Any, phone_till: Any, terminal: Any
) -> None:
    """Every phone-order screen, filled as in use, at 1024×768, 1366×768 and 1920×1080
    (tests/ui/layout_check.py); and a customer without an e-mail gets no card link."""
    from tests.ui.layout_check import clipped_widgets
    from tests.ui.test_layout import SIZES, _fit_to_screen, _settle
    from ui.picking import SlipDialog, delivery_note_html, pick_list_html

    window = phone_till
    placed = place(terminal, PROVISIONAL_SLOT)
    picking_order = phone_orders.transition_phone_order(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        window.clerk,
        place(terminal, FIRM_SLOT).id,
        FulfilmentState.PICKING,
    )
    move_booking(terminal, placed.id)
    window.show_phone_order()
    screen = window.phone_order_dialog
    focus(qtbot, screen.customer_search)
    with qtbot.waitSignal(screen.customers_shown, timeout=TIMEOUT):
        type_enter(qtbot, screen.customer_search, "086 765")
    assert screen.customer is not None and screen.customer.name == "Ciarán Walsh"
    link = screen.payment_buttons[PaymentMethod.CARD_LINK]
    assert not link.isEnabled() and "e-mail" in link.toolTip()
    with terminal.read() as uow:
        for code in ("4011", barcode_of("Whole milk 1 L"), barcode_of("Ground coffee 500 g")):
            screen.add_product(uow.products.by_code(code), 600)
    qtbot.waitUntil(lambda: screen.slot_picker.cell(FIRM_SLOT) is not None, timeout=TIMEOUT)
    screen.slot_picker.choose(PROVISIONAL_SLOT)
    pick_list = phone_orders.pick_list(terminal.read(), FIRM_SLOT)
    note = phone_orders.delivery_note(terminal.read(), picking_order.id)
    name = terminal.store.store_name
    others: list[Any] = [
        lambda: CustomerDialog(terminal, window.runner, screen.customer, parent=screen),
        lambda: SubstitutionDialog(terminal, "Bananas, loose", LineChoice(), screen),
        lambda: ReadBackDialog(["Order for Ciarán Walsh, +353867654321"] * 12, screen),
        lambda: ProductSearchDialog(terminal, "Substitute product", screen),
        lambda: PhoneQueueDialog(terminal, window.runner, window.clerk, window),
        lambda: PickingDialog(terminal, window.runner, window.clerk, picking_order, window),
        lambda: ReconcileDialog(terminal, window.runner, window),
        lambda: SlipDialog(
            "Pick list",
            lambda pt: pick_list_html(pick_list, name, pt),
            "pick-list.pdf",
            window.runner,
            window,
        ),
        lambda: SlipDialog(
            "Delivery note",
            lambda pt: delivery_note_html(note, name, pt),
            "note.pdf",
            window.runner,
            window,
        ),
    ]
    problems: list[str] = []
    for size in SIZES:
        screen.resize(1500, 940)  # its own size (the offscreen screen shrank it to 800 px)
        _fit_to_screen(screen, size)
        _settle(qtbot)
        problems += [f"phone order at {size}: {p}" for p in clipped_widgets(screen)]
        for build in others:
            dialog = build()
            own = dialog.size()
            dialog.show()
            qtbot.waitExposed(dialog)
            loaded = getattr(dialog, "orders", None)
            if loaded is not None:
                qtbot.waitUntil(lambda d=dialog: d.orders != [], timeout=TIMEOUT)
            dialog.resize(own)
            _fit_to_screen(dialog, size)
            _settle(qtbot)
            problems += [f"{type(dialog).__name__} at {size}: {p}" for p in clipped_widgets(dialog)]
            dialog.done(0)
    assert problems == [], "\n".join(problems)
    screen.reject()


class FakePhoneGateway:
    """The server's card links as a test scripts them: the picked total is more than the
    card authorised, so the first capture asks staff to decide."""

    def __init__(self, authorised: int) -> None:
        self.authorised = authorised
        self.captures: list[str] = []

    def _state(self, order_id: str, status: Any, actual: int, captured: int = 0) -> Any:
        from app.domain.card import PhoneCardState

        return PhoneCardState(
            order_id=order_id,
            status=status,
            currency="EUR",
            estimated_total=actual,
            authorised_amount=self.authorised,
            actual_total=actual,
            shortfall=max(0, actual - self.authorised),
            captured_amount=captured,
            decision=None,
            authorisation_payment_id="pay-1",
        )

    def capture(self, order_id: str, capture_id: str, choice: Any) -> Any:
        from app.domain.card import CaptureChoice, PhoneCardStatus

        self.captures.append(choice.value)
        with self.terminal.read() as uow:
            actual = uow.phone_orders.get(order_id).actual_total
        if choice is CaptureChoice.CAPTURE and actual > self.authorised:
            return self._state(order_id, PhoneCardStatus.NEEDS_DECISION, actual)
        return self._state(order_id, PhoneCardStatus.CAPTURED, actual, self.authorised)


def test_a_card_link_order_heavier_than_authorised_is_charged_as_staff_choose(
    qtbot: Any, phone_till: Any, terminal: Any
) -> None:
    from app.domain.delivery import PickedLine, priced_picked_lines
    from app.domain.order import TenderKind

    window = phone_till
    clerk = window.clerk
    order = place(terminal, FIRM_SLOT, grams=500)
    for target in (FulfilmentState.PICKING,):
        phone_orders.transition_phone_order(
            terminal.uow(), terminal.ids, terminal.clock, clerk, order.id, target
        )
    heavier = [  # 900 g picked instead of 500 g estimated
        PickedLine(
            ln.line_no,
            PickStatus.PICKED,
            ln.product_id,
            ln.sku,
            ln.name,
            ln.sold_by,
            900 if ln.line_no == 1 else ln.quantity,
            ln.unit_price,
            ln.tax_class,
            0,
            0,
        )
        for ln in order.lines
    ]
    picked = phone_orders.record_picking(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        terminal.store,
        clerk,
        order.id,
        priced_picked_lines(heavier, terminal.store),
    )
    for target in (FulfilmentState.READY, FulfilmentState.OUT_FOR_DELIVERY):
        phone_orders.transition_phone_order(
            terminal.uow(), terminal.ids, terminal.clock, clerk, order.id, target
        )
    with terminal.database.writer.begin() as connection:
        connection.execute(
            update(PHONE_ORDERS)
            .where(PHONE_ORDERS.c.id == order.id)
            .values(payment_method="card_link")
        )
    gateway = FakePhoneGateway(authorised=order.estimated_total)
    gateway.terminal = terminal
    queue = PhoneQueueDialog(terminal, window.runner, clerk, window)
    queue.open()
    qtbot.waitUntil(lambda: queue.orders != [], timeout=TIMEOUT)
    assert queue.ok_button.text() == "Enter: Delivered"
    queue._on_ok()  # offline: no gateway
    assert "once this till is online" in queue.error.text()

    queue.phone_gateway = lambda: gateway
    focus(qtbot, queue.table)
    key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: queue.decision is not None, timeout=TIMEOUT)
    shortfall = picked.actual_total - order.estimated_total
    assert "more than the card authorised" in queue.error.text()
    with qtbot.waitSignal(queue.moved, timeout=TIMEOUT):
        key(qtbot, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)  # charge what was authorised
    assert gateway.captures == ["capture", "capture_authorised"]
    with terminal.read() as uow:
        sale = uow.orders.get(order.id)
        delivered = uow.phone_orders.get(order.id)
    assert delivered.state is FulfilmentState.DELIVERED
    assert sale is not None and sale.total == order.estimated_total
    assert sale.discount_total == shortfall  # "not authorised by card"
    assert [(t.kind, t.amount, t.reference) for t in sale.tenders] == [
        (TenderKind.CARD, order.estimated_total, "pay-1")
    ]
    queue.reject()
