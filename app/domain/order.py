"""Orders, tenders and the order state machine."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.domain.cart import CartLine, CartTotals, TaxBreakdownEntry
from app.domain.errors import IllegalTransition, InvalidInput, TenderShortfall
from app.domain.money import DEFAULT_LOCALE, format_minor
from app.domain.product import SoldBy
from app.domain.timestamps import optional_utc_iso, utc_iso


class OrderStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    REFUNDED = "refunded"


ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.OPEN: frozenset({OrderStatus.PAID, OrderStatus.VOIDED}),
    OrderStatus.PAID: frozenset({OrderStatus.VOIDED, OrderStatus.REFUNDED}),
    OrderStatus.VOIDED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class SyncState(enum.StrEnum):
    """Where an order is on its way to the server; kept apart from the business status.

    The till's store sets it from the outbox (local_db/sync_store.py): QUEUED when the sale
    is written and again after an attempt that got no answer (offline, timeout), SENT only
    while a request carrying it is out, ACKNOWLEDGED when the server answered accepted or
    duplicate, REJECTED with the server's reason. ``shown`` is the one word a clerk reads.
    """

    QUEUED = "queued"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"

    @property
    def shown(self) -> str:
        """waiting (in the outbox, not yet sent), sent (no answer yet), received (the
        server has it), refused (the reason is kept with the order)."""
        return SYNC_STATE_WORDS[self]


SYNC_STATE_WORDS: dict[SyncState, str] = {
    SyncState.QUEUED: "waiting",
    SyncState.SENT: "sent",
    SyncState.ACKNOWLEDGED: "received",
    SyncState.REJECTED: "refused",
}
# Least advanced first: a sale shows the least advanced of its own state and its later events'.
SYNC_PROGRESS = (SyncState.REJECTED, SyncState.QUEUED, SyncState.SENT, SyncState.ACKNOWLEDGED)


def check_transition(receipt_no: str, current: OrderStatus, target: OrderStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(
            f"order {receipt_no or '(unnumbered)'} is {current.value}; it cannot become "
            f"{target.value}",
            field="status",
        )


class TenderKind(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    PAY_LATER = "pay_later"


@dataclass(frozen=True, slots=True)
class TenderInput:
    """What the clerk took: for cash, the amount handed over (may exceed what is due)."""

    kind: TenderKind
    amount: int
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Tender:
    kind: TenderKind
    amount: int  # what this tender pays of the order
    tendered: int  # what was handed over (cash) — equals amount for other kinds
    change: int  # handed back (cash only)
    reference: str = ""


def settle_tenders(
    total: int, inputs: list[TenderInput], *, currency: str, locale: str = DEFAULT_LOCALE
) -> tuple[Tender, ...]:
    """Turn what the clerk took into tenders that pay exactly ``total``.

    Card and pay-later may not exceed what is still due; cash may, and the excess is change.
    A set of tenders that does not cover the total is refused, naming what is still due (in
    the store's ``currency`` and ``locale``).
    """

    def amount(minor: int) -> str:
        return format_minor(minor, currency, locale)

    if not inputs:
        raise TenderShortfall(f"no tender taken; {amount(total)} is due", field="tenders")
    for tender in inputs:
        if not isinstance(tender.amount, int) or tender.amount <= 0:
            raise InvalidInput("every tender must be a positive amount", field="tenders")
    non_cash = sum(t.amount for t in inputs if t.kind is not TenderKind.CASH)
    if non_cash > total:
        raise InvalidInput(
            f"card and pay-later tenders ({amount(non_cash)}) exceed the total "
            f"{amount(total)}; only cash can be given in excess",
            field="tenders",
        )
    tendered = sum(t.amount for t in inputs)
    if tendered < total:
        raise TenderShortfall(
            f"tendered {amount(tendered)} does not cover the total {amount(total)}: "
            f"{amount(total - tendered)} still due",
            field="tenders",
        )
    change_left = tendered - total
    settled: list[Tender] = []
    # Change comes out of cash: the last cash tenders give it back first.
    for tender in reversed(inputs):
        change = 0
        if tender.kind is TenderKind.CASH and change_left:
            change = min(change_left, tender.amount)
            change_left -= change
        settled.append(
            Tender(tender.kind, tender.amount - change, tender.amount, change, tender.reference)
        )
    settled.reverse()
    return tuple(t for t in settled if t.amount > 0 or t.kind is TenderKind.CASH)


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_no: int
    product_id: str
    sku: str
    name: str
    sold_by: SoldBy
    quantity: int
    unit_price: int
    gross: int
    line_discount: int
    order_discount_share: int
    net: int
    tax_class: str
    tax_rate_bp: int
    discount_reason: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    receipt_no: str
    terminal_code: str
    sequence: int
    clerk_id: str
    clerk_name: str
    currency: str
    status: OrderStatus
    created_at: datetime
    paid_at: datetime | None
    lines: tuple[OrderLine, ...]
    tenders: tuple[Tender, ...]
    tax: tuple[TaxBreakdownEntry, ...]
    subtotal: int
    discount_total: int
    tax_total: int
    total: int
    prices_include_tax: bool = True
    sync_state: SyncState = SyncState.QUEUED
    sync_error: str = ""
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    refunded_total: int = 0  # minor units given back so far (refunds keep the order PAID
    # until everything is refunded; then it is REFUNDED)
    shift_id: str | None = None  # the terminal's shift open when it was paid (docs/manager.md)

    @property
    def change(self) -> int:
        return sum(t.change for t in self.tenders)

    def with_later_events(self, later: Iterable[tuple[SyncState, str]]) -> Order:
        """The sale as the history shows it, with its later events (a refund, a void) that
        the server has not acknowledged yet, each as (state, reason): the least advanced
        state is the sale's — a refund made offline makes a received sale "waiting" again,
        a refused one makes it "refused" with the server's reason."""
        state, why = self.sync_state, self.sync_error
        for event_state, event_why in later:
            if SYNC_PROGRESS.index(event_state) < SYNC_PROGRESS.index(state):
                state, why = event_state, event_why
        return replace(self, sync_state=state, sync_error=why)

    def with_status(self, target: OrderStatus) -> Order:
        check_transition(self.receipt_no, self.status, target)
        return replace(self, status=target)


def format_receipt_no(terminal_code: str, sequence: int) -> str:
    return f"{terminal_code}-{sequence:06d}"


def order_lines_from(totals: CartTotals, cart_lines: tuple[CartLine, ...]) -> tuple[OrderLine, ...]:
    by_id = {lt.line_id: lt for lt in totals.lines}
    result = []
    for number, line in enumerate(cart_lines, start=1):
        lt = by_id[line.line_id]
        result.append(
            OrderLine(
                line_no=number,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                sold_by=line.sold_by,
                quantity=line.quantity,
                unit_price=line.unit_price,
                gross=lt.gross,
                line_discount=lt.line_discount,
                order_discount_share=lt.order_discount_share,
                net=lt.net,
                tax_class=lt.tax_class,
                tax_rate_bp=lt.tax_rate_bp,
                discount_reason=line.discount.reason if line.discount else "",
            )
        )
    return tuple(result)


# The order's fields as plain values (money in minor units, timestamps in the one UTC
# format). The till's order rows (local_db.codec) and the wire's order payload (sync.wire)
# are both these plus their own columns, so the two never drift apart. Built by hand, not
# with ``asdict`` (which deep-copies): this is on the sale path.


def order_fields(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "receipt_no": order.receipt_no,
        "terminal_code": order.terminal_code,
        "sequence": order.sequence,
        "clerk_id": order.clerk_id,
        "clerk_name": order.clerk_name,
        "currency": order.currency,
        "status": order.status.value,
        "kind": order.extra.get("kind", "counter"),
        "created_at": utc_iso(order.created_at),
        "paid_at": optional_utc_iso(order.paid_at),
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "prices_include_tax": order.prices_include_tax,
    }


def line_fields(line: OrderLine) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "sold_by": line.sold_by.value,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "gross": line.gross,
        "line_discount": line.line_discount,
        "order_discount_share": line.order_discount_share,
        "net": line.net,
        "tax_class": line.tax_class,
        "tax_rate_bp": line.tax_rate_bp,
        "discount_reason": line.discount_reason,
    }


def tender_fields(tender: Tender) -> dict[str, Any]:
    return {
        "kind": tender.kind.value,
        "amount": tender.amount,
        "tendered": tender.tendered,
        "change": tender.change,
        "reference": tender.reference,
    }
