"""The order rules: placing, voiding and refunding orders, in the caller's transaction.

One way in, whoever places the order: the push of a till (server/sync/push.py) today, phone
orders and the web shop later. A caller hands in commands (``PlaceOrder``, ``VoidOrder``,
``RefundOrder``) and gets one ``OrderOutcome`` per command back. ``place_orders`` does it all
in one call; the push, which must store an event's id between the checks and the writes,
drives an ``OrderBatch`` itself (``check`` → its own writes → ``apply`` → ``settle``).

The rules:

- Orders are facts: accepted at the price paid; anything odd (price, clerk, terminal code,
  currency, an unverified card) becomes a flag for a manager. An order id is taken once: the
  same order again is a duplicate, a different order under that id a conflict.
- A card tender whose reference is a payment id must match a payment of this store that
  Stripe confirmed, for this order and exactly this amount; else the order is refused.
- A void names an order of this store; a refund may not give back more than was paid (or
  more of a line than was sold), and its card part must be a refund Stripe confirmed.
- Stock moves with every accepted order, void and refund, written last (``settle``): those
  rows are what concurrent batches of a store contend for, so their locks are held only from
  there to the commit. A level below zero raises an ``oversold`` flag.

No statement is issued per row: every table is written with one executemany per batch.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from app.domain.order import OrderStatus
from app.domain.order_check import check_order_consistency
from app.domain.refund import (
    Refundable,
    RefundLine,
    card_payment_id,
    nothing_refunded,
    refund_refusal,
)
from app.domain.stock import StockChanges, refund_changes, sale_changes, void_changes
from server.bulk import copy_rows, insert_returning
from server.catalog.repository import CatalogRepository
from server.mail.notifications import queue_order_confirmation, queue_order_refund_receipt
from server.models import (
    Clerk,
    Customer,
    Flag,
    Order,
    OrderLine,
    OrderRefund,
    Payment,
    PaymentRefund,
    StockLevel,
    Tender,
)
from server.payments.service import PaymentStatus, RefundStatus
from server.reports.summaries import (
    Sale,
    SummaryDeltas,
    catalog_departments,
    store_time_zone,
    stored_sales,
)
from server.sync.changes import record_changes
from server.terminals.auth import Caller
from sync.protocol import (
    OrderData,
    OrderLineData,
    OrderPayload,
    OrderRefundPayload,
    OrderVoidPayload,
)

OutcomeStatus = Literal["accepted", "duplicate", "conflict", "rejected"]


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    key: int  # the caller's handle on the outcome (the push: the event's index)
    order: OrderPayload
    order_hash: str  # of the order's canonical JSON: tells a duplicate from a conflict
    event_id: uuid.UUID  # the event (or request) that placed it, kept on the order


@dataclass(frozen=True, slots=True)
class VoidOrder:
    key: int
    void: OrderVoidPayload


@dataclass(frozen=True, slots=True)
class RefundOrder:
    key: int
    refund: OrderRefundPayload
    event_id: uuid.UUID


OrderCommand = PlaceOrder | VoidOrder | RefundOrder


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """What became of one command. ``field`` is a path inside the command's order, void or
    refund (``tenders[0].reference``); a conflict carries the hash stored before."""

    key: int
    status: OutcomeStatus
    reason: str | None = None
    message: str | None = None
    field: str | None = None
    stored_hash: str = ""


def _refused(key: int, reason: str, message: str, where: str) -> OrderOutcome:
    return OrderOutcome(key, "rejected", reason, message, where)


def arithmetic_problem(key: int, order: OrderPayload) -> OrderOutcome | None:
    """The refusal of an order whose numbers contradict each other (lines, totals, tax),
    or None. The push runs it while parsing; ``place_orders`` runs it itself."""
    problem = check_order_consistency(order)
    if problem is None:
        return None
    return _refused(key, problem.reason, problem.message, problem.field)


def place_orders(
    session: Session, who: Caller, catalog: CatalogRepository, commands: Sequence[OrderCommand]
) -> list[OrderOutcome]:
    """Check and apply ``commands`` in ``session``'s transaction; outcomes by ``key`` order."""
    batch = OrderBatch(session, who, catalog)
    outcomes: list[OrderOutcome] = []
    consistent: list[OrderCommand] = []
    for command in commands:
        problem = (
            arithmetic_problem(command.key, command.order)
            if isinstance(command, PlaceOrder)
            else None
        )
        if problem is None:
            consistent.append(command)
        else:
            outcomes.append(problem)
    kept, refused = batch.check(consistent)
    outcomes += refused
    outcomes += batch.apply(kept)
    batch.settle()
    return sorted(outcomes, key=lambda o: o.key)


def _fields(model: Any) -> dict[str, Any]:
    """``model.model_dump()`` of a flat model (only plain field values, no nested models):
    its field values as a new dict, without a trip through the serializer per row."""
    return dict(model.__dict__)


_NESTED = ("customer", "lines", "tenders", "tax")


def order_row(
    order: OrderPayload, who: Caller, event_id: uuid.UUID, order_hash: str, now: datetime
) -> dict[str, Any]:
    """The ``orders`` row of a placed order: the wire model's fields, and what the server adds."""
    row = _fields(order)
    for name in _NESTED:
        del row[name]
    row.update(
        store_id=who.store_id,
        terminal_id=who.terminal(),
        event_id=event_id,
        content_hash=order_hash,
        customer_id=order.customer.id if order.customer else None,
        customer=order.customer.model_dump(mode="json") if order.customer else None,
        tax=[_fields(t) for t in order.tax],
        voided_at=None,
        void_reason=None,
        received_at=now,
    )
    return row


def order_data(session: Session, order: Order) -> OrderData:
    """An order as the API answers it (``GET /api/v1/orders/{id}``)."""
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.store_id == order.store_id, OrderLine.order_id == order.id)
        .order_by(OrderLine.line_no)
    ).all()
    return OrderData(
        id=str(order.id),
        **{
            name: getattr(order, name)
            for name in OrderData.model_fields
            if name not in ("id", "lines")
        },
        lines=[OrderLineData.model_validate(line, from_attributes=True) for line in lines],
    )


def _card_payment_refs(order: OrderPayload) -> list[tuple[int, uuid.UUID]]:
    """(tender index, payment id) of the card tenders whose reference is a payment id."""
    refs = []
    for i, tender in enumerate(order.tenders):
        payment_id = card_payment_id(tender.kind, tender.reference)
        if payment_id is not None:
            refs.append((i, uuid.UUID(payment_id)))
    return refs


@dataclass
class _RefundTarget:
    """What a refund is checked against: the order's status and total, and what is left
    of it (``left`` moves on with every refund accepted, in this batch too)."""

    status: OrderStatus
    total: int
    left: Refundable


@dataclass
class _StoredSale:
    """An order's stored lines (rows with line_no, product_id, quantity)."""

    lines: list[Any] = field(default_factory=list)


class OrderBatch:
    """The order rules for one batch of commands of one caller, in one transaction."""

    def __init__(self, session: Session, who: Caller, catalog: CatalogRepository) -> None:
        self.session = session
        self.who = who
        self.catalog = catalog
        self.now = datetime.now(UTC)
        self.flags: list[dict[str, Any]] = []
        self.stock_delta: dict[str, int] = defaultdict(int)
        self.stock_orders: dict[str, list[str]] = defaultdict(list)
        self._summary: SummaryDeltas | None = None  # server/reports/summaries.py

    def summaries(self) -> SummaryDeltas:
        """The report summaries' deltas of this batch, written by ``settle``."""
        if self._summary is None:
            zone = store_time_zone(self.session, self.who.store_id)
            self._summary = SummaryDeltas(self.who.store_id, zone)
        return self._summary

    # ------------------------------------------------------------------ checks

    def check(
        self, commands: Sequence[OrderCommand]
    ) -> tuple[list[OrderCommand], list[OrderOutcome]]:
        """The commands that may be applied, and the refusals of the others (nothing is
        written: a refused command may be sent again once, say, its card payment is
        confirmed)."""
        refused: list[OrderOutcome] = []
        kept = self._drop_unconfirmed_card_tenders(list(commands), refused)
        kept = self._drop_voids_of_unknown_orders(kept, refused)
        kept = self._drop_refunds_that_do_not_fit(kept, refused)
        return kept, refused

    def _new_in_batch(self, commands: Sequence[OrderCommand]) -> set[uuid.UUID]:
        """The orders this batch places that the caller's store does not hold yet: the only
        orders of the batch a void or refund of the same batch may name. Order ids are each
        store's own (migration 0009): another store's order under the same id is neither read
        nor in the way."""
        placed = {c.order.id for c in commands if isinstance(c, PlaceOrder)}
        if not placed:
            return set()
        taken = set(self.session.scalars(select(Order.id).where(*self._own_orders(placed))))
        return placed - taken

    def _own_orders(self, order_ids: Iterable[uuid.UUID]) -> tuple[Any, ...]:
        return (Order.store_id == self.who.store_id, Order.id.in_(list(order_ids)))

    def _owned(self, order_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``order_ids`` that are orders of the caller's store (this batch's own
        inserts included: they are in the same transaction)."""
        wanted = set(order_ids)
        if not wanted:
            return set()
        return set(self.session.scalars(select(Order.id).where(*self._own_orders(wanted))))

    def _drop_voids_of_unknown_orders(
        self, commands: list[OrderCommand], refused: list[OrderOutcome]
    ) -> list[OrderCommand]:
        """A void of an order this store never sent is refused (an order of another store
        is just as unknown)."""
        voids = [c for c in commands if isinstance(c, VoidOrder)]
        if not voids:
            return commands
        in_batch = self._new_in_batch(commands)
        known = self._owned(c.void.order_id for c in voids)
        kept: list[OrderCommand] = []
        for c in commands:
            if isinstance(c, VoidOrder) and c.void.order_id not in known | in_batch:
                refused.append(_unknown_order(c.key, c.void.order_id))
            else:
                kept.append(c)
        return kept

    def _drop_unconfirmed_card_tenders(
        self, commands: list[OrderCommand], refused: list[OrderOutcome]
    ) -> list[OrderCommand]:
        """A card tender whose ``reference`` is a payment id must match a payment of this
        store that Stripe confirmed, for this order and for exactly the tender's amount;
        otherwise the order is refused (it may not be finalised). Card tenders with another
        reference (an external card terminal) are accepted and flagged."""
        wanted = {
            ref
            for c in commands
            if isinstance(c, PlaceOrder)
            for _, ref in _card_payment_refs(c.order)
        }
        if not wanted:
            return commands
        payments = {
            p.id: p
            for p in self.session.execute(
                select(Payment.id, Payment.order_id, Payment.status, Payment.amount_received).where(
                    Payment.id.in_(wanted), Payment.store_id == self.who.store_id
                )
            )
        }
        kept: list[OrderCommand] = []
        for c in commands:
            problem: tuple[str, str, str] | None = None
            if isinstance(c, PlaceOrder):
                for i, ref in _card_payment_refs(c.order):
                    found = payments.get(ref)
                    tender = c.order.tenders[i]
                    where = f"tenders[{i}]"
                    if found is None or found.status != PaymentStatus.SUCCEEDED:
                        state = "unknown" if found is None else found.status
                        problem = (
                            "card_payment_not_confirmed",
                            f"card payment {ref} is {state}, not confirmed by the payment service",
                            f"{where}.reference",
                        )
                    elif found.order_id != c.order.id:
                        problem = (
                            "card_payment_not_confirmed",
                            f"card payment {ref} belongs to another order",
                            f"{where}.reference",
                        )
                    elif found.amount_received != tender.amount:
                        problem = (
                            "card_amount_mismatch",
                            f"the card tender is {tender.amount} but payment {ref} captured "
                            f"{found.amount_received}",
                            f"{where}.amount",
                        )
                    if problem:
                        break
            if problem is None:
                kept.append(c)
            else:
                refused.append(_refused(c.key, *problem))
        return kept

    def _refund_targets(
        self, commands: list[OrderCommand], wanted: set[uuid.UUID]
    ) -> dict[uuid.UUID, _RefundTarget]:
        session, store_id = self.session, self.who.store_id
        orders = {
            oid: (OrderStatus(status), total)
            for oid, total, status in session.execute(
                select(Order.id, Order.total, Order.status).where(
                    Order.id.in_(wanted), Order.store_id == store_id
                )
            )
        }
        sold: dict[uuid.UUID, dict[int, int]] = {oid: {} for oid in orders}
        for oid, line_no, quantity in session.execute(
            select(OrderLine.order_id, OrderLine.line_no, OrderLine.quantity).where(
                OrderLine.store_id == store_id, OrderLine.order_id.in_(list(orders))
            )
        ):
            sold[oid][line_no] = quantity
        targets = {
            oid: _RefundTarget(status, total, nothing_refunded(total, sold[oid]))
            for oid, (status, total) in orders.items()
        }
        in_batch = self._new_in_batch(commands) & wanted
        for c in commands:  # orders that arrive in this very batch, new to every store
            if isinstance(c, PlaceOrder) and c.order.id in in_batch and c.order.id not in targets:
                o = c.order
                targets[o.id] = _RefundTarget(
                    OrderStatus.PAID,
                    o.total,
                    nothing_refunded(o.total, {ln.line_no: ln.quantity for ln in o.lines}),
                )
        for oid, amount, lines in session.execute(
            select(OrderRefund.order_id, OrderRefund.amount, OrderRefund.lines).where(
                OrderRefund.order_id.in_(list(targets)), OrderRefund.store_id == store_id
            )
        ):
            target = targets[oid]
            target.left = target.left.after(
                amount, [RefundLine(ln["line_no"], ln["quantity"]) for ln in lines or []]
            )
        return targets

    def _drop_refunds_that_do_not_fit(
        self, commands: list[OrderCommand], refused: list[OrderOutcome]
    ) -> list[OrderCommand]:
        """A refund is refused if its order is unknown to this store or voided, if it would
        give back more than was paid (or more of a line than was sold), or if its card part
        is not a refund the payment service confirmed for that payment of this order.
        Refunds already stored are not checked again: ``apply`` answers them duplicates."""
        refunds = [c for c in commands if isinstance(c, RefundOrder)]
        if not refunds:
            return commands
        session = self.session
        ids = [c.refund.refund_id for c in refunds]
        stored = set(
            session.scalars(
                select(OrderRefund.id).where(
                    OrderRefund.id.in_(ids), OrderRefund.store_id == self.who.store_id
                )
            )
        )
        targets = self._refund_targets(commands, {c.refund.order_id for c in refunds})
        card_refunds = {
            row.id: row
            for row in session.execute(
                select(
                    PaymentRefund.id,
                    PaymentRefund.status,
                    PaymentRefund.amount,
                    Payment.id.label("payment_id"),
                    Payment.order_id,
                )
                .join(
                    Payment,
                    (Payment.store_id == PaymentRefund.store_id)
                    & (Payment.id == PaymentRefund.payment_id),
                )
                .where(PaymentRefund.id.in_(ids), PaymentRefund.store_id == self.who.store_id)
            )
        }
        dropped: set[int] = set()
        for c in sorted(refunds, key=lambda c: c.key):
            r = c.refund
            if r.refund_id in stored:
                continue
            target = targets.get(r.order_id)
            problem = _refund_problem(r, target, card_refunds.get(r.refund_id))
            if problem is not None:
                refused.append(_refused(c.key, *problem))
                dropped.add(c.key)
                continue
            assert target is not None
            target.left = target.left.after(r.amount, r.lines)  # later refunds see this one
            stored.add(r.refund_id)
        return [c for c in commands if c.key not in dropped]

    # ------------------------------------------------------------------ writes

    def apply(self, commands: Sequence[OrderCommand]) -> list[OrderOutcome]:
        """Apply checked commands (the stock moves wait for ``settle``)."""
        outcomes = self._place([c for c in commands if isinstance(c, PlaceOrder)])
        outcomes += self._void([c for c in commands if isinstance(c, VoidOrder)])
        outcomes += self._refund([c for c in commands if isinstance(c, RefundOrder)])
        return outcomes

    def settle(self) -> None:
        """The flags raised so far, then the stock levels (and their oversold flags)."""
        copy_rows(self.session, Flag, self.flags)
        self.flags = []
        if self._summary is not None:
            self._summary.write(self.session)
        self._apply_stock()
        copy_rows(self.session, Flag, self.flags)
        self.flags = []

    def _place(self, placed: list[PlaceOrder]) -> list[OrderOutcome]:
        if not placed:
            return []
        who = self.who
        firsts: dict[uuid.UUID, PlaceOrder] = {}  # the first command of each order id
        again: list[PlaceOrder] = []  # further commands for an order id already in the batch
        for c in sorted(placed, key=lambda c: c.key):
            if c.order.id in firsts:
                again.append(c)
            else:
                firsts[c.order.id] = c
        placed = [firsts[k] for k in sorted(firsts)]
        rows = [order_row(c.order, who, c.event_id, c.order_hash, self.now) for c in placed]
        found = insert_returning(
            self.session, Order, rows, conflict=("store_id", "id"), returning=("id",)
        )
        new_orders = {r[0] for r in found}
        outcomes = self._answer_known_orders(
            [c for c in placed if c.order.id not in new_orders] + again
        )
        accepted = [c for c in placed if c.order.id in new_orders]
        lines: list[dict[str, Any]] = []
        tenders: list[dict[str, Any]] = []
        customers: dict[uuid.UUID, dict[str, Any]] = {}
        product_ids = set()
        for c in accepted:
            o = c.order
            for line in o.lines:
                lines.append({"store_id": who.store_id, "order_id": o.id, **_fields(line)})
                if line.product_id:  # not an open-price item
                    product_ids.add(line.product_id)
            self._move_stock(sale_changes(o), o.id)
            for position, tender in enumerate(o.tenders, start=1):
                tenders.append(
                    {
                        "store_id": who.store_id,
                        "order_id": o.id,
                        "position": position,
                        **_fields(tender),
                    }
                )
            if o.customer is not None:
                customers[o.customer.id] = {
                    "id": o.customer.id,
                    "store_id": who.store_id,
                    "name": o.customer.name,
                    "phone": o.customer.phone,
                    "email": o.customer.email,
                    "deleted": False,
                    "updated_at": self.now,
                }
            outcomes.append(OrderOutcome(c.key, "accepted"))
        copy_rows(self.session, OrderLine, lines)
        copy_rows(self.session, Tender, tenders)
        self._queue_confirmations(accepted)
        if customers:
            rows = [customers[k] for k in sorted(customers)]
            found = insert_returning(
                self.session, Customer, rows, conflict=("store_id", "id"), returning=("id",)
            )
            record_changes(self.session, "customer", (str(r[0]) for r in found), who.store_id)
        self._flag_orders(accepted, product_ids)
        if accepted:
            departments = catalog_departments(self.catalog, product_ids)
            deltas = self.summaries()
            for c in accepted:
                o = c.order
                deltas.sale(_sale(o), o.lines, o.tenders, departments)
        return outcomes

    def _queue_confirmations(self, accepted: list[PlaceOrder]) -> None:
        """The order confirmation e-mail for accepted orders with a customer e-mail address,
        in the caller's transaction (once per order: a card payment may have queued it)."""
        for c in accepted:
            o = c.order
            if o.customer is None or not o.customer.email:
                continue
            queue_order_confirmation(
                self.session,
                store_id=self.who.store_id,
                order_id=o.id,
                to=o.customer.email,
                currency=o.currency,
                paid=o.total,
                summary=None,
                payment_ref=o.receipt_no,
            )

    def _answer_known_orders(self, known: list[PlaceOrder]) -> list[OrderOutcome]:
        """Orders already stored (or earlier in this batch) under another command: the same
        order is a duplicate; a different order under the same order id is a conflict."""
        if not known:
            return []
        query = select(Order.id, Order.content_hash).where(  # another store's hash is its own
            Order.id.in_([c.order.id for c in known]), Order.store_id == self.who.store_id
        )
        stored = {oid: digest for oid, digest in self.session.execute(query)}
        outcomes = []
        for c in known:
            order_id = c.order.id
            if stored.get(order_id) == c.order_hash:
                outcomes.append(OrderOutcome(c.key, "duplicate"))
            else:
                outcomes.append(
                    OrderOutcome(
                        c.key,
                        "conflict",
                        "conflict",
                        f"order {order_id} exists, differently",
                        stored_hash=stored.get(order_id, ""),
                    )
                )
        return outcomes

    def _flag_orders(self, accepted: list[PlaceOrder], product_ids: set[str]) -> None:
        """Orders are facts: accepted at the price paid; anything odd becomes a flag."""
        if not accepted:
            return
        who = self.who
        prices = self.catalog.unit_prices(product_ids)
        clerks = {
            str(i)
            for i in self.session.scalars(select(Clerk.id).where(Clerk.store_id == who.store_id))
        }
        for c in accepted:
            self._flag_order(c.order, clerks, prices)

    def _flag_order(self, o: OrderPayload, clerks: set[str], prices: dict[str, int]) -> None:
        who = self.who

        def flag(kind: str, product_id: str | None = None, **detail: Any) -> None:
            self._flag(kind, o.id, product_id, {"receipt_no": o.receipt_no, **detail})

        if o.terminal_code != who.terminal_code:
            flag("terminal_code_mismatch", enrolled_as=who.terminal_code, sent=o.terminal_code)
        card_refs = {i for i, _ in _card_payment_refs(o)}
        for i, tender in enumerate(o.tenders):
            if tender.kind == "card" and i not in card_refs:
                flag("card_payment_unverified", tender=i, amount=tender.amount)
        if o.currency != who.currency:
            flag("currency_mismatch", store_currency=who.currency, sent=o.currency)
        if o.clerk_id not in clerks:
            flag("unknown_clerk", clerk_id=o.clerk_id, clerk_name=o.clerk_name)
        for line in o.lines:
            if not line.product_id:  # an open-price item: no catalog price to compare
                continue
            price = prices.get(line.product_id)
            if price is None:
                flag("unknown_product", line.product_id, line_no=line.line_no, sku=line.sku)
            elif price != line.unit_price:
                flag(
                    "price_mismatch",
                    line.product_id,
                    line_no=line.line_no,
                    sku=line.sku,
                    paid_unit_price=line.unit_price,
                    catalog_unit_price=price,
                )

    def _flag(
        self, kind: str, order_id: uuid.UUID, product_id: str | None, detail: dict[str, Any]
    ) -> None:
        """A flag for a manager, written by ``settle``."""
        self.flags.append(
            {
                "store_id": self.who.store_id,
                "kind": kind,
                "order_id": order_id,
                "product_id": product_id,
                "detail": detail,
                "created_at": self.now,
            }
        )

    def _void(self, voids: list[VoidOrder]) -> list[OrderOutcome]:
        if not voids:
            return []
        outcomes = []
        voided: list[uuid.UUID] = []
        owned = self._owned(c.void.order_id for c in voids)
        for c in sorted(voids, key=lambda c: c.key):
            v = c.void
            if v.order_id not in owned:  # not an order of this store (checked again here)
                outcomes.append(_unknown_order(c.key, v.order_id))
                continue
            done = self.session.execute(
                update(Order)
                .where(
                    Order.id == v.order_id,
                    Order.store_id == self.who.store_id,
                    Order.status == OrderStatus.PAID,
                    Order.refunded_total == 0,  # stock of refunded lines went back already
                )
                .values(status=OrderStatus.VOIDED, voided_at=v.voided_at, void_reason=v.reason)
                .returning(Order.id)
            ).first()
            if done is not None:
                voided.append(v.order_id)
            outcomes.append(OrderOutcome(c.key, "accepted"))
        if voided:
            sold = self._stored_lines(voided)
            for order_id in voided:
                self._move_stock(void_changes(sold[order_id]), order_id)
            when = {c.void.order_id: c.void.voided_at for c in voids}
            deltas = self.summaries()
            for order_id, (sale, lines, tenders) in stored_sales(
                self.session, self.who.store_id, voided
            ).items():
                deltas.void(sale, lines, tenders, when[order_id])
        return outcomes

    def _stored_lines(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, _StoredSale]:
        """The stored lines of these orders of the caller's store (one statement), as the
        stock rules read them."""
        sold: dict[uuid.UUID, _StoredSale] = defaultdict(_StoredSale)
        for line in self.session.execute(
            select(
                OrderLine.order_id, OrderLine.line_no, OrderLine.product_id, OrderLine.quantity
            ).where(
                OrderLine.store_id == self.who.store_id,
                OrderLine.order_id.in_(list(order_ids)),
            )
        ):
            sold[line.order_id].lines.append(line)
        return sold

    def _move_stock(self, changes: StockChanges, order_id: uuid.UUID) -> None:
        """Add ``order_id``'s stock changes (app.domain.stock) to the batch's; ``settle``
        writes them."""
        order = str(order_id)
        for product_id, change in changes.items():
            self.stock_delta[product_id] += change
            self.stock_orders[product_id].append(order)

    def _apply_stock(self) -> None:
        deltas = {k: v for k, v in self.stock_delta.items() if v}
        self.stock_delta.clear()
        if not deltas:
            return
        who = self.who
        rows = [
            {"store_id": who.store_id, "product_id": p, "quantity": deltas[p]}
            for p in sorted(deltas)
        ]
        found = insert_returning(
            self.session,
            StockLevel,
            rows,
            conflict=("store_id", "product_id"),
            returning=("product_id", "quantity"),
            add_on_conflict="quantity",
        )
        levels = {pid: qty for pid, qty in found}
        for product_id, quantity in sorted(levels.items()):
            if quantity < 0 and deltas[product_id] < 0:
                orders = self.stock_orders[product_id]
                detail = {"quantity": quantity, "orders": orders[-20:]}
                self._flag("oversold", uuid.UUID(orders[-1]), product_id, detail)
        record_changes(self.session, "stock", levels.keys(), who.store_id)

    def _refund(self, refunds: list[RefundOrder]) -> list[OrderOutcome]:
        if not refunds:
            return []
        who = self.who
        rows = []
        outcomes = []
        owned = self._owned(c.refund.order_id for c in refunds)
        lost = [c for c in refunds if c.refund.order_id not in owned]
        for c in lost:  # not an order of this store (checked again here)
            outcomes.append(_unknown_order(c.key, c.refund.order_id))
        refunds = [c for c in refunds if c.refund.order_id in owned]
        for c in sorted(refunds, key=lambda c: c.key):
            r = c.refund
            rows.append(
                {
                    "id": r.refund_id,
                    "order_id": r.order_id,
                    "store_id": who.store_id,
                    "terminal_id": who.terminal(),
                    "event_id": c.event_id,
                    "amount": r.amount,
                    "cash_amount": r.cash_amount,
                    "card_amount": r.card_amount,
                    "card_payment_id": r.card_payment_id,
                    "reason": r.reason,
                    "clerk_id": r.clerk_id,
                    "lines": [line.model_dump() for line in r.lines],
                    "refunded_at": r.refunded_at,
                    "received_at": self.now,
                }
            )
        found = insert_returning(
            self.session, OrderRefund, rows, conflict=("store_id", "id"), returning=("id",)
        )
        inserted = {row[0] for row in found}
        accepted: list[OrderRefundPayload] = []
        for c in refunds:
            if c.refund.refund_id in inserted:
                accepted.append(c.refund)
                outcomes.append(OrderOutcome(c.key, "accepted"))
            else:  # the same refund under another command: recorded once already
                outcomes.append(OrderOutcome(c.key, "duplicate"))
        if not accepted:
            return outcomes
        deltas = self.summaries()
        for r in accepted:
            deltas.refund(
                r.refunded_at, who.terminal_code, r.clerk_id, r.amount, r.cash_amount, r.card_amount
            )
        per_order: defaultdict[uuid.UUID, int] = defaultdict(int)
        for r in accepted:
            per_order[r.order_id] += r.amount
        table = cast(Table, Order.__table__)
        for order_id in sorted(per_order):
            self.session.execute(
                update(table)
                .where(table.c.id == order_id, table.c.store_id == who.store_id)
                .values(refunded_total=table.c.refunded_total + per_order[order_id])
            )
            self.session.execute(
                update(table)
                .where(
                    table.c.id == order_id,
                    table.c.store_id == who.store_id,
                    table.c.status == OrderStatus.PAID,
                    table.c.refunded_total >= table.c.total,
                )
                .values(status=OrderStatus.REFUNDED)
            )
        with_lines = [r for r in accepted if r.lines]
        if with_lines:
            sold = self._stored_lines({r.order_id for r in with_lines})
            for r in with_lines:
                self._move_stock(refund_changes(sold[r.order_id], r), r.order_id)
        self._queue_refund_receipts(accepted)
        return outcomes

    def _queue_refund_receipts(self, accepted: list[OrderRefundPayload]) -> None:
        """The refund receipt for orders with a customer e-mail (the order's customer, else
        the card payment's address), in the caller's transaction; once per refund."""
        session = self.session
        order_ids = {r.order_id for r in accepted}
        orders = {
            o.id: o
            for o in session.scalars(
                select(Order).where(Order.id.in_(order_ids), Order.store_id == self.who.store_id)
            )
        }
        payment_ids = {r.card_payment_id for r in accepted if r.card_payment_id}
        card_emails = (
            {
                pid: email
                for pid, email in session.execute(
                    select(Payment.id, Payment.customer_email).where(
                        Payment.id.in_(payment_ids), Payment.store_id == self.who.store_id
                    )
                )
            }
            if payment_ids
            else {}
        )
        for r in accepted:
            order = orders.get(r.order_id)
            if order is None:
                continue
            email = (order.customer or {}).get("email") or (
                card_emails.get(r.card_payment_id) if r.card_payment_id else None
            )
            if not email:
                continue
            queue_order_refund_receipt(
                session,
                store_id=self.who.store_id,
                refund_id=r.refund_id,
                to=email,
                currency=order.currency,
                refunded=r.amount,
                card_amount=r.card_amount,
                paid=order.total,
                refunded_total=order.refunded_total,
                reason=r.reason,
                receipt_no=order.receipt_no,
            )


def _sale(o: OrderPayload) -> Sale:
    """A placed order's figures as the report summaries sum them."""
    return Sale(
        paid_at=o.paid_at,
        terminal_code=o.terminal_code,
        clerk_id=o.clerk_id,
        clerk_name=o.clerk_name,
        gross=sum(line.gross for line in o.lines),
        discount_total=o.discount_total,
        total=o.total,
        tax_total=o.tax_total,
    )


def _unknown_order(key: int, order_id: uuid.UUID) -> OrderOutcome:
    return _refused(
        key, "unknown_order", f"order {order_id} is not known for this store", "order_id"
    )


def _refund_problem(
    r: OrderRefundPayload, target: _RefundTarget | None, card: Any
) -> tuple[str, str, str] | None:
    if target is None:
        refused = _unknown_order(0, r.order_id)
        return ("unknown_order", refused.message or "", "order_id")
    refusal = refund_refusal(
        str(r.order_id), target.status, target.total, target.left, r.amount, r.lines
    )
    if refusal is not None:
        return (refusal.reason.value, refusal.message, refusal.field)
    if r.card_amount:
        if (
            card is None
            or card.status != RefundStatus.SUCCEEDED
            or card.payment_id != r.card_payment_id
            or card.order_id != r.order_id
        ):
            state = "unknown" if card is None else card.status
            return (
                "card_refund_not_confirmed",
                f"card refund {r.refund_id} of payment {r.card_payment_id} is {state}, not "
                "confirmed by the payment service for this order",
                "card_payment_id",
            )
        if card.amount != r.card_amount:
            return (
                "card_amount_mismatch",
                f"the card part is {r.card_amount} but the payment service refunded {card.amount}",
                "card_amount",
            )
    return None
