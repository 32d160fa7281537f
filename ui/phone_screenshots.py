"""The phone-order screens for ``make screenshots`` (ui/screenshots.py calls ``render``).

The till is given what a pull from the store's server gives it (``apply_pull``, as the sync
engine does): delivery slots over three days with this till's allotments, a customer with
two addresses, and orders taken at another till (T02) in every state, one of them moved by
the server, one left unplaced. Then this till takes its own order through the real screen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCREENS = (
    "phone-order.png",
    "slot-picker.png",
    "phone-queue.png",
    "picking.png",
    "pick-list.png",
    "delivery-note.png",
    "reconcile.png",
)
WINDOWS = ((8, 10), (10, 12), (14, 16), (18, 20))
# (day, window index): (capacity, booked, free, this till's allotment); not listed: 10/3/5/2
STANDINGS = {
    (1, 0): (10, 10, 0, 0),
    (1, 1): (10, 7, 3, 0),
    (1, 3): (10, 9, 1, 0),
    (2, 2): (12, 12, 0, 0),
    (3, 0): (10, 2, 4, 4),
}


def _slot_id(day: int, window: int) -> str:
    return f"0194b000-0000-7000-8000-0000000{day:02d}{window:03d}"


def _start(day: int, hour: int) -> datetime:
    base = (datetime.now(UTC) + timedelta(days=day)).date()
    return datetime(base.year, base.month, base.day, hour, tzinfo=UTC)


def _pulled_page(terminal: Any) -> Any:
    """What the store's server sends this till: slots, allotments, a customer, T02's orders."""
    from sync import protocol as p

    changes: list[Any] = []
    for day in (1, 2, 3):
        for index, (start, end) in enumerate(WINDOWS):
            capacity, booked, free, allotted = STANDINGS.get((day, index), (10, 3, 5, 2))
            slot_id = _slot_id(day, index)
            changes.append(
                p.DeliverySlotChange(
                    cursor="1",
                    kind="delivery_slot",
                    data=p.DeliverySlotData(
                        id=slot_id,
                        starts_at=_start(day, start),
                        ends_at=_start(day, end),
                        capacity=capacity,
                        booked=booked,
                        active=True,
                        free=free,
                        cutoff_minutes=120,
                        lead_time_minutes=60,
                    ),
                )
            )
            changes.append(
                p.SlotAllotmentChange(
                    cursor="1",
                    kind="slot_allotment",
                    data=p.SlotAllotmentData(
                        slot_id=slot_id, terminal_id="", allotted_total=allotted, used=0
                    ),
                )
            )
    changes.append(
        p.CustomerChange(
            cursor="1",
            kind="customer",
            data=p.CustomerData(
                id="0194b000-0000-7000-8000-00000000c001",
                name="Aoife Byrne",
                phone="+353871234567",
                email="aoife.byrne@example.com",
                notes="Prefers green bananas",
                updated_at=datetime.now(UTC),
                addresses=[
                    p.AddressData(
                        id="0194b000-0000-7000-8000-00000000d001",
                        label="Home",
                        line1="4 Harbour Road",
                        postcode="D13 X1Y2",
                        city="Howth",
                        country="IE",
                        notes="Blue door, ring twice",
                    ),
                    p.AddressData(
                        id="0194b000-0000-7000-8000-00000000d002",
                        label="Work",
                        line1="Unit 7, Quay Business Park",
                        line2="Reception, 2nd floor",
                        postcode="D01 K2P3",
                        city="Dublin",
                        country="IE",
                    ),
                ],
            ),
        )
    )
    people = [
        ("Ciarán Walsh", "+353867654321", "9 Quay Street", "H91 AB12", "Galway"),
        ("Siobhán Kelly", "+353851112233", "22 Mill Lane", "T12 C3D4", "Cork"),
        ("Declan Murphy", "+353894445566", "3 Abbey Court", "V94 E5F6", "Limerick"),
        ("Niamh O'Brien", "+353877778899", "15 Strand Road", "A91 G7H8", "Dundalk"),
        ("Pádraig Doyle", "+353831239876", "8 Market Square", "R95 J9K0", "Kilkenny"),
    ]
    plan = [  # state, booking, payment, day, window, moved from
        ("received", "moved", "door_cash", 1, 2, (1, 1)),
        ("received", "unplaced", "card_link", 1, 1, None),
        ("picking", "confirmed", "door_card", 1, 0, None),
        ("ready", "firm", "card_link", 1, 0, None),
        ("out_for_delivery", "firm", "door_cash", 1, 0, None),
    ]
    with terminal.read() as uow:
        milk = uow.products.by_code(_barcode("Whole milk 1 L"))
        bread = uow.products.by_code(_barcode("Sourdough loaf"))
    now = datetime.now(UTC)
    for number, ((name, phone, line1, postcode, city), row) in enumerate(
        zip(people, plan, strict=True), start=1
    ):
        state, booking, payment, day, window, moved = row
        lines = [
            p.PhoneOrderLineData(
                line_no=n,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                sold_by=product.sold_by.value,
                quantity=q,
                unit_price=product.unit_price,
                tax_class=product.tax_class,
                tax_rate_bp=700,
                net=product.unit_price * q,
            )
            for n, (product, q) in enumerate(((milk, 2), (bread, 1)), start=1)
        ]
        total = sum(line.net for line in lines)
        slot = _slot_id(day, window)
        changes.append(
            p.PhoneOrderChange(
                cursor="1",
                kind="phone_order",
                data=p.PhoneOrderData(
                    id=f"0194b000-0000-7000-8000-0000000e{number:04d}",
                    order_no=f"T02-P{number:06d}",
                    terminal_code="T02",
                    clerk_id="0194b000-0000-7000-8000-00000000f001",
                    clerk_name="Ben",
                    customer=p.CustomerSnapshotData(
                        id=f"0194b000-0000-7000-8000-0000000c{number:04d}", name=name, phone=phone
                    ),
                    address=p.AddressData(
                        id=f"0194b000-0000-7000-8000-0000000d{number:04d}",
                        line1=line1,
                        postcode=postcode,
                        city=city,
                        country="IE",
                    ),
                    lines=lines,
                    slot_id=slot,
                    booking_id=f"0194b000-0000-7000-8000-0000000b{number:04d}",
                    booking_status=booking,
                    moved_from_slot_id=_slot_id(*moved) if moved else None,
                    moved_from_starts_at=_start(moved[0], WINDOWS[moved[1]][0]) if moved else None,
                    state=state,
                    version=2,
                    payment_method=payment,
                    payment_status="authorised" if payment == "card_link" else "none",
                    authorised_amount=-(-total * 115 // 100) if payment == "card_link" else 0,
                    estimated_total=total,
                    currency="EUR",
                    created_at=now - timedelta(hours=3, minutes=number * 7),
                    updated_at=now - timedelta(minutes=number * 5),
                    slot_starts_at=_start(day, WINDOWS[window][0]),
                    slot_ends_at=_start(day, WINDOWS[window][1]),
                ),
            )
        )
    return p.PullResponse(changes=changes, next_cursor="1", has_more=False)


def _barcode(name: str) -> str:
    from ui.sample_catalog import barcode_of

    return barcode_of(name)


def render(
    app: Any,
    window: Any,
    terminal: Any,
    clerk: Any,
    out: Path,
    wait: Callable[..., None],
    settle: Callable[..., None],
) -> None:
    """Every phone-order screen at the window's size into ``out``."""
    from app.domain.delivery import FulfilmentState, PaymentMethod, PickStatus, Substitution
    from app.services import phone_orders
    from sync.engine import page_from_response
    from ui.phone_order import LineChoice, PhoneOrderDialog
    from ui.phone_queue import PhoneQueueDialog
    from ui.picking import delivery_note_html, pick_list_html
    from ui.receipt_view import html_document
    from ui.reconcile import ReconcileDialog

    terminal.sync_store().apply_pull(page_from_response(_pulled_page(terminal)))
    size = window.size()

    def fit(dialog: Any) -> None:
        """The dialog at its own size, at most the window's (the counter screen)."""
        dialog.resize(min(dialog.width(), size.width()), min(dialog.height(), size.height()))

    # The phone-order screen, filled in as the caller speaks.
    screen = PhoneOrderDialog(terminal, window.runner, clerk, window)
    screen.resize(1500, 940)
    fit(screen)
    screen.show()
    shown: list[int] = []
    screen.customers_shown.connect(shown.append)
    screen.customer_search.setText("087 123")
    screen.search_customers(choose_first=True)
    wait(app, lambda: bool(shown))
    with terminal.read() as uow:
        bananas = uow.products.by_code("4011")
        apples = uow.products.by_code("4133")
        products = [
            uow.products.by_code(_barcode(n))
            for n in (
                "Whole milk 1 L",
                "Sourdough loaf",
                "Free-range eggs, 10",
                "Greek yoghurt 500 g",
            )
        ]
    screen.add_product(bananas, 800)
    screen.set_choice(
        screen.cart.lines[0].line_id,
        LineChoice(Substitution.SPECIFIC, apples.id, apples.name, "not too ripe"),
    )
    for product in products:
        screen.add_product(product, None)
    screen.add_product(products[0], None)  # two milks
    eggs = next(line for line in screen.cart.lines if line.name.startswith("Free-range"))
    screen.set_choice(eggs.line_id, LineChoice(Substitution.NONE, note="only free-range"))
    screen.note_field.setText("Leave with the neighbour at no. 6 if nobody answers")
    slots: list[int] = []
    screen.slots_shown.connect(slots.append)
    screen.load_slots()
    wait(app, lambda: bool(slots))
    screen.slot_picker.choose(_slot_id(1, 1))  # past this till's allotment: provisional
    screen.payment_buttons[PaymentMethod.CARD_LINK].setChecked(True)
    settle(app)
    screen.grab().save(str(out / "phone-order.png"))
    screen.slot_picker.grab().save(str(out / "slot-picker.png"))
    screen.slot_picker.choose(_slot_id(1, 2))  # within it: firm
    draft = screen.draft()
    order = phone_orders.place_phone_order(
        terminal.uow(), terminal.ids, terminal.clock, terminal.store, clerk, draft
    )
    screen.done(0)
    settle(app)

    # The queue every till of the store sees (this till's order and T02's).
    picking_order = phone_orders.transition_phone_order(
        terminal.uow(),
        terminal.ids,
        terminal.clock,
        clerk,
        order.id,
        FulfilmentState.PICKING,
    )
    queue = PhoneQueueDialog(terminal, window.runner, clerk, window)
    fit(queue)
    queue.show()
    wait(app, lambda: len(queue.orders) >= 6)
    queue.table.selectRow(0)
    settle(app)
    queue.grab().save(str(out / "phone-queue.png"))

    # Picking this till's order: lighter bananas, a substitute, one line not available.
    queue.pick(picking_order)
    picking = queue.child_dialog
    fit(picking)
    picking.set_quantity(0, 640)
    with terminal.read() as uow:
        oat = uow.products.by_code(_barcode("Greek yoghurt 500 g"))
    picking.substitute(1, oat, 2)
    picking.mark(PickStatus.NOT_AVAILABLE, 3)
    picking.table.selectRow(2)
    settle(app)
    picking.grab().save(str(out / "picking.png"))
    saved: list[Any] = []
    picking.saved.connect(saved.append)
    picking._on_ok()
    wait(app, lambda: bool(saved))
    queue.done(0)
    settle(app)

    # The paper: the slot's pick list and the order's delivery note.
    name = terminal.store.store_name
    pick_list = phone_orders.pick_list(terminal.read(), _slot_id(1, 2))
    note = phone_orders.delivery_note(terminal.read(), order.id)
    for html, file in (
        (pick_list_html(pick_list, name), "pick-list.png"),
        (delivery_note_html(note, name), "delivery-note.png"),
    ):
        _document_image(html_document(html)).save(str(out / file))

    # The reconcile list: the server moved one booking and found no slot for another.
    reconcile = ReconcileDialog(terminal, window.runner, window)
    fit(reconcile)
    reconcile.show()
    wait(app, lambda: len(reconcile.orders) == 2)
    settle(app)
    reconcile.grab().save(str(out / "reconcile.png"))
    reconcile.done(0)
    settle(app)


def _document_image(document: Any, scale: float = 2.0) -> Any:
    from PySide6.QtGui import QColor, QImage, QPainter

    size = document.size()
    image = QImage(
        int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_RGB32
    )
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.scale(scale, scale)
    document.drawContents(painter)
    painter.end()
    return image
