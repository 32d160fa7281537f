"""Refund rules: how much may go back, per line and to the card, and the till's refund flow
(against an in-memory unit of work and a scripted payment API)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.approval import Approval, ApprovalNeeded
from app.domain.cart import TaxBreakdownEntry
from app.domain.clerk import Clerk, Role
from app.domain.errors import GatewayUnavailable, InvalidInput
from app.domain.events import ApprovalUsed, OrderRefunded
from app.domain.order import Order, OrderLine, OrderStatus, Tender, TenderKind
from app.domain.product import SoldBy
from app.domain.refund import (
    RefundLine,
    RefundState,
    card_payment_id,
    lines_value,
    nothing_refunded,
    plan_refund,
    refund_refusal,
)
from app.services.refunds import (
    CardRefundFailed,
    CardRefundNeedsConnection,
    refund_order,
    retry_refund,
)
from tests.fakes import FakeRefundGateway
from tests.unit.builders import till_order

PAYMENT = "0190f1c2-0000-7000-8000-0000000000aa"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MANAGER = Clerk(id="m1", name="Sam", role=Role.MANAGER, pin_hash="x")
CLERK = Clerk(id="c1", name="Maria", role=Role.CLERK, pin_hash="x")


def line(no: int, quantity: int, net: int, sold_by: SoldBy = SoldBy.EACH) -> OrderLine:
    return OrderLine(
        no, f"p{no}", f"SKU{no}", f"Item {no}", sold_by, quantity, net, net, 0, 0, net, "food", 700
    )


def an_order(
    lines: tuple[OrderLine, ...] = (),
    tenders: tuple[Tender, ...] | None = None,
    include_tax: bool = True,
    tax_total: int = 0,
) -> Order:
    lines = lines or (line(1, 3, 1000), line(2, 1, 250))
    nets = sum(ln.net for ln in lines)
    total = nets if include_tax else nets + tax_total
    return till_order(
        NOW,
        lines=lines,
        tenders=tenders or (Tender(TenderKind.CASH, total, total, 0),),
        tax=(TaxBreakdownEntry("food", "VAT 7%", 700, nets, tax_total),),
        subtotal=nets,
        discount_total=0,
        tax_total=tax_total,
        total=total,
        prices_include_tax=include_tax,
    )


def card_order(card: int = 1250) -> Order:
    order = an_order()
    tenders = [Tender(TenderKind.CARD, card, card, 0, PAYMENT)]
    if card < order.total:
        tenders.append(Tender(TenderKind.CASH, order.total - card, order.total - card, 0))
    return replace(order, tenders=tuple(tenders))


# ----------------------------------------------------------------------------- the rules


def test_no_arguments_refunds_everything_left_with_all_lines():
    plan = plan_refund(an_order(), [])
    assert (plan.amount, plan.cash_amount, plan.card_amount) == (1250, 1250, 0)
    assert plan.lines == (RefundLine(1, 3), RefundLine(2, 1))
    assert plan.completes_order


def test_refunding_a_line_piece_by_piece_adds_up_exactly_to_its_net():
    order = an_order(lines=(line(1, 3, 1000),))
    assert [lines_value(order, {1: done}, [RefundLine(1, 1)]) for done in range(3)] == [
        333,
        334,
        333,
    ]


def test_weighed_line_is_refunded_by_grams():
    order = an_order(lines=(line(1, 742, 140, SoldBy.WEIGHT),))
    assert lines_value(order, {}, [RefundLine(1, 371)]) == 70


def test_tax_exclusive_order_refunds_tax_with_the_lines():
    order = an_order(lines=(line(1, 2, 1000),), include_tax=False, tax_total=190)
    assert order.total == 1190
    assert plan_refund(order, [], lines=[RefundLine(1, 1)]).amount == 595


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.data())
def test_line_refunds_in_any_pieces_never_exceed_and_end_at_the_total(quantities, data):
    lines = tuple(line(i + 1, q, 97 * q + i) for i, q in enumerate(quantities))
    order = an_order(lines=lines, include_tax=data.draw(st.booleans()), tax_total=31)
    previous: list[Any] = []
    paid_back = 0
    for _ in range(sum(quantities)):
        left = {ln.line_no: ln.quantity for ln in order.lines}
        for r in previous:
            for rl in r.lines:
                left[rl.line_no] -= rl.quantity
        choices = [n for n, q in left.items() if q > 0]
        no = data.draw(st.sampled_from(choices))
        plan = plan_refund(order, previous, lines=[RefundLine(no, 1)])
        assert plan.amount >= 0
        paid_back += plan.amount
        assert paid_back <= order.total
        previous.append(refund_from(plan))
        if paid_back == order.total:
            break
    assert paid_back == order.total


def refund_from(plan: Any, state: RefundState = RefundState.DONE) -> Any:
    from app.domain.refund import Refund

    return Refund(
        id=f"r{id(plan)}",
        order_id="o1",
        amount=plan.amount,
        card_amount=plan.card_amount,
        cash_amount=plan.cash_amount,
        card_payment_id=plan.card_payment_id,
        reason="x",
        lines=plan.lines,
        clerk_id="m1",
        clerk_name="Sam",
        created_at=NOW,
        state=state,
    )


def test_more_than_is_left_is_refused_naming_what_is_left():
    order = an_order()
    first = refund_from(plan_refund(order, [], amount=1000))
    with pytest.raises(InvalidInput, match=r"at most 2\.50 is left"):
        plan_refund(order, [first], amount=251)
    assert plan_refund(order, [first], amount=250).completes_order


def test_a_line_cannot_be_refunded_more_often_than_it_was_sold():
    order = an_order()
    first = refund_from(plan_refund(order, [], lines=[RefundLine(1, 2)]))
    with pytest.raises(InvalidInput, match="only 1 of it"):
        plan_refund(order, [first], lines=[RefundLine(1, 2)])
    with pytest.raises(InvalidInput, match="no line 9"):
        plan_refund(order, [first], lines=[RefundLine(9, 1)])


def test_an_amount_above_the_lines_value_is_refused():
    with pytest.raises(InvalidInput, match="worth"):
        plan_refund(an_order(), [], lines=[RefundLine(2, 1)], amount=300)
    assert plan_refund(an_order(), [], lines=[RefundLine(2, 1)], amount=200).amount == 200


def test_failed_refunds_do_not_count_and_pending_ones_block():
    order = an_order()
    failed = refund_from(plan_refund(order, [], amount=1250), RefundState.FAILED)
    assert plan_refund(order, [failed]).amount == 1250
    pending = refund_from(plan_refund(order, [], amount=100), RefundState.PENDING)
    with pytest.raises(InvalidInput, match="still waiting"):
        plan_refund(order, [pending], amount=100)


def test_card_gets_as_much_as_its_tender_left_and_cash_the_rest():
    order = card_order(card=1000)
    plan = plan_refund(order, [])
    assert (plan.card_amount, plan.cash_amount, plan.card_payment_id) == (1000, 250, PAYMENT)
    after = refund_from(plan_refund(order, [], amount=600))
    assert plan_refund(order, [after]).card_amount == 400
    assert plan_refund(order, [], amount=300, to_card=0).card_payment_id is None
    with pytest.raises(InvalidInput, match="back to the card"):
        plan_refund(order, [after], amount=500, to_card=500)


def test_only_a_card_tender_naming_a_payment_of_the_payment_api_goes_back_to_the_card():
    assert card_payment_id("card", PAYMENT.upper()) == PAYMENT  # the wire's kind, any spelling
    assert card_payment_id(TenderKind.CARD, "EXT-1") is None  # an external card terminal
    assert card_payment_id(TenderKind.CASH, PAYMENT) is None
    assert card_payment_id(TenderKind.CARD, "") is None


def test_a_card_tender_of_an_external_terminal_is_refunded_in_cash():
    order = replace(card_order(), tenders=(Tender(TenderKind.CARD, 1250, 1250, 0, "EXT-1"),))
    assert plan_refund(order, []).cash_amount == 1250


def test_voided_or_refunded_orders_cannot_be_refunded():
    with pytest.raises(InvalidInput, match="voided"):
        plan_refund(replace(an_order(), status=OrderStatus.VOIDED), [])
    everything = refund_from(plan_refund(an_order(), []))
    refunded = replace(an_order(), status=OrderStatus.REFUNDED, refunded_total=1250)
    with pytest.raises(InvalidInput, match="refunded in full"):
        plan_refund(refunded, [everything], amount=1)


def test_a_line_named_twice_counts_twice():
    with pytest.raises(InvalidInput, match="only 1 of it") as refused:
        plan_refund(an_order(), [], lines=[RefundLine(2, 1), RefundLine(2, 1)])
    assert refused.value.field == "lines[1].quantity"


@pytest.mark.parametrize(
    ("status", "amount", "lines", "refusal"),
    [
        (OrderStatus.VOIDED, 100, [], ("order_voided", "order_id", "order o1 was voided")),
        (
            OrderStatus.PAID,
            1251,
            [],
            (
                "refund_exceeds_order",
                "amount",
                "at most 1250 is left to refund of this order (paid 1250)",
            ),
        ),
        (
            OrderStatus.PAID,
            100,
            [RefundLine(1, 1), RefundLine(9, 1)],
            ("unknown_line", "lines[1].line_no", "the order has no line 9"),
        ),
        (
            OrderStatus.PAID,
            100,
            [RefundLine(1, 2), RefundLine(1, 2)],
            ("refund_exceeds_line", "lines[1].quantity", "line 1: 3 of it is left to refund"),
        ),
    ],
)
def test_the_refund_rule_answers_with_a_reason_a_field_and_what_is_left(
    status: OrderStatus, amount: int, lines: list[RefundLine], refusal: tuple[str, str, str]
) -> None:
    left = nothing_refunded(1250, {1: 3, 2: 1})
    found = refund_refusal("o1", status, 1250, left, amount, lines)
    assert found is not None
    assert (found.reason.value, found.field, found.message) == refusal


def test_what_is_left_moves_on_with_every_refund_that_counts():
    left = nothing_refunded(1250, {1: 3, 2: 1}).after(1000, [RefundLine(1, 2)])
    assert (left.amount, left.lines) == (250, {1: 1, 2: 1})
    assert refund_refusal("o1", OrderStatus.PAID, 1250, left, 250, [RefundLine(1, 1)]) is None
    too_much = refund_refusal("o1", OrderStatus.PAID, 1250, left, 251, [])
    assert too_much is not None
    assert too_much.message == "at most 250 is left to refund of this order (paid 1250)"
    line_again = refund_refusal("o1", OrderStatus.PAID, 1250, left, 1, [RefundLine(1, 2)])
    assert line_again is not None and line_again.reason.value == "refund_exceeds_line"


# ----------------------------------------------------------------------------- the service


class FakeUnitOfWork:
    """Just the repositories refund_order uses, over shared dicts; commit keeps changes."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.orders = self
        self.refunds = FakeRefunds(self)
        self.outbox = FakeList(self, "outbox")
        self.audit = FakeList(self, "audit")
        self.products = self
        self.clerks = FakeClerks(self)
        self.approvals = FakeApprovals(self)
        self.work: dict[str, Any] = {}

    def __enter__(self) -> FakeUnitOfWork:
        import copy

        self.work = copy.deepcopy(self.state)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.work = {}

    def commit(self) -> None:
        self.state.update(self.work)

    # orders
    def get(self, order_id: str) -> Order | None:
        order = self.work["orders"].get(order_id)
        return order

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        self.work["orders"][order_id] = replace(self.work["orders"][order_id], status=status)

    def set_refunded_total(self, order_id: str, total: int) -> None:
        self.work["orders"][order_id] = replace(self.work["orders"][order_id], refunded_total=total)

    # products
    def move_stock(self, movements: Any) -> None:
        self.work["stock"].extend(movements)


class FakeList:
    """The outbox or the audit log: what was added, in order."""

    def __init__(self, uow: FakeUnitOfWork, key: str) -> None:
        self.uow, self.key = uow, key

    def add(self, item: Any) -> None:
        self.uow.work[self.key].append(item)


class FakeClerks:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def get(self, clerk_id: str) -> Clerk | None:
        return {c.id: c for c in (MANAGER, CLERK)}.get(clerk_id)


class FakeApprovals:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def get(self, approval_id: str) -> Any:
        return self.uow.work["approvals"].get(approval_id)

    def mark_used(self, approval_id: str, used_at: datetime) -> None:
        approvals = self.uow.work["approvals"]
        approvals[approval_id] = replace(approvals[approval_id], used_at=used_at)


class FakeRefunds:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def add(self, refund: Any) -> None:
        self.uow.work["refunds"][refund.id] = refund

    def get(self, refund_id: str) -> Any:
        return self.uow.work["refunds"].get(refund_id)

    def for_order(self, order_id: str) -> list[Any]:
        return [r for r in self.uow.work["refunds"].values() if r.order_id == order_id]

    def set_state(self, refund_id: str, state: Any, *, refunded_at: Any = None, failure=""):
        refund = self.uow.work["refunds"][refund_id]
        self.uow.work["refunds"][refund_id] = replace(
            refund, state=state, refunded_at=refunded_at or refund.refunded_at, failure=failure
        )

    def pending(self) -> list[Any]:
        return [r for r in self.uow.work["refunds"].values() if r.state is RefundState.PENDING]


class Clock:
    def now(self) -> datetime:
        return NOW


class Ids:
    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def new_id(self) -> str:
        return f"0190f1c2-0000-7000-8000-{next(self.counter):012d}"


@pytest.fixture
def shop() -> dict[str, Any]:
    return {
        "orders": {"o1": card_order()},
        "refunds": {},
        "outbox": [],
        "audit": [],
        "stock": [],
        "approvals": {},
    }


def refund(shop: dict[str, Any], gateway: Any, **kwargs: Any) -> Any:
    """Asked by the clerk Maria; when the refund asks for an approval, the manager Sam's
    approval of exactly what it names is granted and the refund asked again (the till's
    flow; ``approve=False``: nobody approves)."""
    approve = kwargs.pop("approve", True)
    args = (kwargs.pop("reason", "damaged"), kwargs.pop("asked_by", CLERK), Clock(), Ids())

    def ask(approval: Approval | None = None) -> Any:
        return refund_order(
            lambda: FakeUnitOfWork(shop), gateway, "o1", *args, approval=approval, **kwargs
        )

    try:
        return ask()
    except ApprovalNeeded as needed:
        if not approve:
            raise
        approval = Approval("a1", needed.action, needed.subject, CLERK.id, MANAGER.id, "T01", NOW)
        shop["approvals"][approval.id] = approval
        return ask(approval)


def refund_events(shop: dict[str, Any]) -> list[Any]:
    """The outbox but for the approval's own event (queued once the approval is used)."""
    return [e for e in shop["outbox"] if not isinstance(e, ApprovalUsed)]


def test_no_refund_without_a_managers_approval(shop):
    with pytest.raises(ApprovalNeeded) as needed:
        refund(shop, FakeRefundGateway(), approve=False)
    assert needed.value.subject == "refund:order=o1:amount=1250"
    assert shop["refunds"] == {} and shop["outbox"] == []


def test_approved_refund_names_the_manager_and_queues_the_approval_first(shop):
    done = refund(shop, FakeRefundGateway(), amount=500)
    assert done.clerk_name == "Sam"
    used, refunded = shop["outbox"]
    assert isinstance(used, ApprovalUsed) and used.approval.subject.endswith(":amount=500")
    assert isinstance(refunded, OrderRefunded)
    assert shop["approvals"]["a1"].used_at == NOW


def test_card_refund_writes_its_row_before_asking_the_server(shop):
    gateway = FakeRefundGateway()
    seen: list[Any] = []
    gateway.on_refund = lambda refund_id: seen.append(shop["refunds"][refund_id].state)
    done = refund(shop, gateway, amount=500)
    assert seen == [RefundState.PENDING]
    assert done.state is RefundState.DONE and done.card_amount == 500
    assert gateway.refund_calls == [(PAYMENT, done.id, 500)]
    (event,) = refund_events(shop)
    assert isinstance(event, OrderRefunded) and event.refund.card_payment_id == PAYMENT
    assert event.refund == done
    assert shop["stock"] == []  # a refund by amount moves no stock
    assert shop["orders"]["o1"].refunded_total == 500
    assert shop["orders"]["o1"].status is OrderStatus.PAID


def test_offline_card_refund_is_refused_and_cash_works(shop):
    with pytest.raises(CardRefundNeedsConnection, match="card refunds need a connection"):
        refund(shop, None, amount=500)
    assert shop["refunds"] == {}
    done = refund(shop, None, amount=1250, to_card=0)
    assert (done.cash_amount, done.card_amount) == (1250, 0)
    assert shop["orders"]["o1"].status is OrderStatus.REFUNDED


def test_unclear_answer_keeps_the_refund_pending_and_a_retry_refunds_once(shop):
    gateway = FakeRefundGateway()
    gateway.outcomes = [GatewayUnavailable("timeout")]
    with pytest.raises(CardRefundNeedsConnection):
        refund(shop, gateway, amount=500)
    (pending,) = shop["refunds"].values()
    assert pending.state is RefundState.PENDING and refund_events(shop) == []
    with pytest.raises(InvalidInput, match="still waiting"):
        refund(shop, gateway, amount=100, to_card=0)
    done = retry_refund(lambda: FakeUnitOfWork(shop), gateway, pending.id, Clock(), Ids())
    assert done.state is RefundState.DONE
    assert [c[1] for c in gateway.refund_calls] == [pending.id, pending.id]
    assert len(refund_events(shop)) == 1


def test_refused_card_refund_changes_nothing_but_its_own_row(shop):
    gateway = FakeRefundGateway()
    gateway.outcomes = ["failed"]
    with pytest.raises(CardRefundFailed, match="card expired"):
        refund(shop, gateway, amount=500)
    (failed,) = shop["refunds"].values()
    assert failed.state is RefundState.FAILED
    assert refund_events(shop) == [] and shop["orders"]["o1"].refunded_total == 0
    assert refund(shop, gateway).amount == 1250  # the failed one does not count
