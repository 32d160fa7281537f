"""The keyboard cases (tests/ui/test_keyboard_flow.py CASES) of the phone-order dialogs:
each opens with the focus in its first field, Enter confirms and Esc cancels."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog


def _phone_order(till: Any) -> QDialog:
    from ui.phone_order import PhoneOrderDialog

    return PhoneOrderDialog(till.terminal, till.runner, till.manager, till.window)


def _fill_customer(dialog: Any) -> None:
    dialog.phone_field.setText("087 123 4567")
    fields = dialog.addresses[0].fields
    fields["line1"].setText("4 Harbour Road")
    fields["postcode"].setText("D13 X1Y2")
    fields["city"].setText("Howth")


def _placed(till: Any, *, weighed: bool = True, picking: bool = False) -> Any:
    from app.domain.delivery import FulfilmentState
    from app.services import phone_orders
    from tests.ui.test_phone_order_ui import FIRM_SLOT, place

    order = place(till.terminal, FIRM_SLOT, weighed=weighed)
    if picking:
        terminal = till.terminal
        order = phone_orders.transition_phone_order(
            terminal.uow(),
            terminal.ids,
            terminal.clock,
            till.manager,
            order.id,
            FulfilmentState.PICKING,
        )
    return order


def _queue(till: Any) -> QDialog:
    from ui.phone_queue import PhoneQueueDialog

    _placed(till)
    return PhoneQueueDialog(till.terminal, till.runner, till.manager, till.window)


def _picking_opened(dialog: Any, results: list[int]) -> bool:
    from ui.picking import PickingDialog

    return results == [] and isinstance(dialog.child_dialog, PickingDialog)


def _picking(till: Any) -> QDialog:
    from ui.picking import PickingDialog

    order = _placed(till, weighed=False, picking=True)
    return PickingDialog(till.terminal, till.runner, till.manager, order, till.window)


def _reconcile(till: Any) -> QDialog:
    from app.services import phone_orders
    from tests.ui.test_phone_order_ui import move_booking
    from ui.reconcile import ReconcileDialog

    for order in phone_orders.reconcile_list(till.terminal.read()):  # an earlier open's
        phone_orders.mark_customer_told(till.terminal.uow(), order.id)
    move_booking(till.terminal, _placed(till).id)
    return ReconcileDialog(till.terminal, till.runner, till.window)


def _slip(till: Any) -> QDialog:
    from ui.picking import SlipDialog

    return SlipDialog(
        "Pick list",
        lambda pt: f"<p style='font-size:{pt}pt'>☐ Whole milk 1 L</p>",
        "pick-list.pdf",
        till.runner,
        till.window,
    )


def phone_cases(case: Any) -> dict[str, Any]:
    """The cases, built with test_keyboard_flow's ``Case``."""
    from ui.phone_order import (
        CustomerDialog,
        LineChoice,
        ProductSearchDialog,
        ReadBackDialog,
        SubstitutionDialog,
    )

    return {
        # Enter in the customer search searches at once (the screen stays open); nothing
        # found for this number, so the screen offers F3.
        "PhoneOrderDialog": case(
            _phone_order,
            typed="087 999 1234",
            ready=lambda d: bool(d.picker.shown_products),
            confirmed=lambda d, r: r == [] and "No customer found" in d.customer_label.text(),
        ),
        "CustomerDialog": case(
            lambda t: CustomerDialog(t.terminal, t.runner, parent=t.window),
            typed="Aoife Byrne",
            fill=_fill_customer,
            confirmed=lambda d, r: r == [1] and d.draft is not None,
        ),
        "ProductSearchDialog": case(
            lambda t: ProductSearchDialog(t.terminal, "Substitute product", t.window),
            typed="coffee",
            confirmed=lambda d, r: r == [1] and d.product is not None,
        ),
        "SubstitutionDialog": case(
            lambda t: SubstitutionDialog(t.terminal, "Bananas, loose", LineChoice(), t.window),
            typed="ripe ones",
            confirmed=lambda d, r: r == [1] and d.choice.note == "ripe ones",
        ),
        "ReadBackDialog": case(lambda t: ReadBackDialog(["Order for Aoife Byrne"], t.window)),
        # Enter makes the selected order's next move (the button says which): picking
        # starts and the picking screen opens over the queue.
        "PhoneQueueDialog": case(_queue, ready=lambda d: bool(d.orders), confirmed=_picking_opened),
        "PickingDialog": case(_picking),
        "SlipDialog": case(_slip),
        # Enter marks the customer told; the list stays open for the next call.
        "ReconcileDialog": case(
            _reconcile,
            ready=lambda d: bool(d.orders),
            confirmed=lambda d, r: r == [] and "Nobody to call" in d.intro.text(),
        ),
    }
