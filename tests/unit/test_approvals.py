"""The one approval mechanism (app.domain.approval, app.services.approvals), against an
in-memory unit of work: single use, tied to its action and subject, managers only, wrong PINs
counted toward the lockout, audited and queued in the use case's transaction."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain.approval import (
    APPROVAL_VALID_FOR,
    Approval,
    ApprovalAction,
    ApprovalNeeded,
    ApprovalRefused,
    approval_subject,
)
from app.domain.audit import AuditAction
from app.domain.clerk import MAX_FAILED_ATTEMPTS, Clerk, Role, hash_pin
from app.domain.errors import AuthenticationFailed, ClerkLocked, InvalidInput, PermissionDenied
from app.domain.events import ApprovalUsed
from app.domain.store import StoreProfile
from app.services.approvals import grant_approval, require_manager_role, use_approval
from tests.fakes import StepClock

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MANAGER_PIN, CLERK_PIN = "246810", "1357"
MANAGER = Clerk("m1", "Sam", Role.MANAGER, hash_pin(MANAGER_PIN))
OTHER_MANAGER = Clerk("m2", "Ana", Role.MANAGER, hash_pin("975310"))
CLERK = Clerk("c1", "Maria", Role.CLERK, hash_pin(CLERK_PIN))
STORE = StoreProfile()
ORDER_A, ORDER_B = "0190f1c2-0000-7000-8000-00000000000a", "0190f1c2-0000-7000-8000-00000000000b"


class FakeShop:
    """Clerks, approvals, audit and outbox as a unit of work: commit keeps the changes."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {
            "clerks": {c.id: c for c in (MANAGER, OTHER_MANAGER, CLERK)},
            "approvals": {},
            "audit": [],
            "outbox": [],
        }
        self.work: dict[str, Any] = {}
        self.clerks = _Clerks(self)
        self.approvals = _Approvals(self)
        self.audit = _List(self, "audit")
        self.outbox = _List(self, "outbox")

    def __enter__(self) -> FakeShop:
        self.work = copy.deepcopy(self.state)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.work = {}

    def commit(self) -> None:
        self.state.update(self.work)


class _Clerks:
    def __init__(self, shop: FakeShop) -> None:
        self.shop = shop

    def all(self) -> list[Clerk]:
        return list(self.shop.work["clerks"].values())

    def get(self, clerk_id: str) -> Clerk | None:
        return self.shop.work["clerks"].get(clerk_id)

    def save(self, clerk: Clerk) -> None:
        self.shop.work["clerks"][clerk.id] = clerk


class _Approvals:
    def __init__(self, shop: FakeShop) -> None:
        self.shop = shop

    def add(self, approval: Approval) -> None:
        self.shop.work["approvals"][approval.id] = approval

    def get(self, approval_id: str) -> Approval | None:
        return self.shop.work["approvals"].get(approval_id)

    def mark_used(self, approval_id: str, used_at: datetime) -> None:
        from dataclasses import replace

        approval = self.shop.work["approvals"][approval_id]
        self.shop.work["approvals"][approval_id] = replace(approval, used_at=used_at)


class _List:
    def __init__(self, shop: FakeShop, key: str) -> None:
        self.shop, self.key = shop, key

    def add(self, item: Any) -> None:
        self.shop.work[self.key].append(item)


class Ids:
    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def new_id(self) -> str:
        return f"0190f1c2-0000-7000-8000-{next(self.counter):012d}"


@pytest.fixture
def shop() -> FakeShop:
    return FakeShop()


@pytest.fixture
def clock() -> StepClock:
    return StepClock(NOW)


def refund_subject(order_id: str = ORDER_A, amount: int = 1250) -> str:
    return approval_subject(ApprovalAction.REFUND, order=order_id, amount=amount)


def grant(shop: FakeShop, clock: StepClock, subject: str | None = None, **kwargs: Any) -> Approval:
    return grant_approval(
        shop,
        Ids(),
        clock,
        kwargs.pop("action", ApprovalAction.REFUND),
        subject or refund_subject(),
        kwargs.pop("asked_by", CLERK.id),
        kwargs.pop("manager_id", MANAGER.id),
        kwargs.pop("pin", MANAGER_PIN),
        store=kwargs.pop("store", STORE),
    )


def use(
    shop: FakeShop,
    clock: StepClock,
    approval: Approval | None,
    subject: str | None = None,
    action: ApprovalAction = ApprovalAction.REFUND,
) -> Approval:
    """A use case's transaction: use the approval and commit."""
    with shop:
        used = use_approval(
            shop, clock, approval, action, subject or refund_subject(), "a refund", amount=1250
        )
        shop.commit()
    return used


def test_subject_has_one_spelling_whatever_order_the_parts_come_in():
    one = approval_subject(ApprovalAction.OPEN_PRICE, price=6000, sale="s1", department="Deli")
    other = approval_subject(ApprovalAction.OPEN_PRICE, department="Deli", sale="s1", price=6000)
    assert one == other == "open_price:department=Deli:price=6000:sale=s1"
    assert refund_subject() == f"refund:order={ORDER_A}:amount=1250"


def test_subject_quotes_its_parts_so_two_never_spell_alike():
    tricky = approval_subject(ApprovalAction.OPEN_PRICE, sale="s1", department="a:b", price=1)
    assert tricky == "open_price:department=a%3Ab:price=1:sale=s1"


def test_subject_missing_a_part_is_refused():
    with pytest.raises(InvalidInput, match="must say its amount"):
        approval_subject(ApprovalAction.REFUND, order=ORDER_A)


def test_no_approval_asks_for_one_and_changes_nothing(shop, clock):
    with pytest.raises(ApprovalNeeded) as raised:
        use(shop, clock, None)
    assert raised.value.action is ApprovalAction.REFUND
    assert raised.value.subject == refund_subject()
    assert raised.value.reason == "a refund"
    assert shop.state["audit"] == [] and shop.state["outbox"] == []


def test_approval_is_used_once_audited_and_queued(shop, clock):
    approval = grant(shop, clock)
    assert approval.used_at is None and approval.terminal_code == STORE.terminal_code
    clock.moment = NOW + timedelta(seconds=30)
    used = use(shop, clock, approval)
    assert used.used_at == NOW + timedelta(seconds=30)
    assert shop.state["approvals"][approval.id].used_at == used.used_at
    (entry,) = shop.state["audit"]
    assert entry.action is AuditAction.APPROVAL_USED
    assert (entry.clerk_id, entry.clerk_name, entry.amount) == (MANAGER.id, "Sam", 1250)
    assert "asked by Maria" in entry.detail and "on T01" in entry.detail
    (event,) = shop.state["outbox"]
    assert isinstance(event, ApprovalUsed) and event.event_id == approval.id
    assert (event.approval.asked_by, event.approval.approved_by) == (CLERK.id, MANAGER.id)
    with pytest.raises(ApprovalRefused, match="used already"):
        use(shop, clock, approval)
    assert len(shop.state["audit"]) == 1 and len(shop.state["outbox"]) == 1


@pytest.mark.parametrize(
    ("action", "subject"),
    [
        (ApprovalAction.REFUND, refund_subject(amount=1300)),
        (ApprovalAction.REFUND, refund_subject(order_id=ORDER_B)),
        (
            ApprovalAction.VOID_AFTER_PAYMENT,
            approval_subject(ApprovalAction.VOID_AFTER_PAYMENT, order=ORDER_A),
        ),
    ],
    ids=["another amount", "another order", "a void"],
)
def test_approval_of_one_refund_approves_nothing_else(shop, clock, action, subject):
    approval = grant(shop, clock)  # a 12.50 refund of order A
    with pytest.raises(ApprovalRefused):
        use(shop, clock, approval, subject=subject, action=action)
    assert shop.state["approvals"][approval.id].used_at is None  # still good for its own
    assert shop.state["audit"] == [] and shop.state["outbox"] == []
    use(shop, clock, approval)


def test_a_clerk_cannot_approve(shop, clock):
    with pytest.raises(ApprovalRefused, match="Maria is not a manager"):
        grant(shop, clock, manager_id=CLERK.id, pin=CLERK_PIN)
    assert shop.state["approvals"] == {}


def test_wrong_pin_counts_toward_the_managers_lockout(shop, clock):
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            grant(shop, clock, pin="999999")
    assert shop.state["clerks"][MANAGER.id].failed_attempts == MAX_FAILED_ATTEMPTS - 1
    with pytest.raises(ClerkLocked):
        grant(shop, clock, pin="999999")
    with pytest.raises(ClerkLocked):  # locked: even the right PIN waits
        grant(shop, clock)
    assert shop.state["approvals"] == {}


def test_an_approval_not_granted_on_this_till_is_refused(shop, clock):
    forged = Approval(
        "x1", ApprovalAction.REFUND, refund_subject(), CLERK.id, MANAGER.id, "T01", NOW
    )
    with pytest.raises(ApprovalRefused, match="not granted on this till"):
        use(shop, clock, forged)


def test_an_old_approval_is_refused(shop, clock):
    approval = grant(shop, clock)
    clock.moment = NOW + APPROVAL_VALID_FOR + timedelta(seconds=1)
    with pytest.raises(ApprovalRefused, match="too old"):
        use(shop, clock, approval)


def test_a_manager_demoted_since_cannot_have_approved(shop, clock):
    from dataclasses import replace

    approval = grant(shop, clock)
    shop.state["clerks"][MANAGER.id] = replace(MANAGER, role=Role.CLERK)
    with pytest.raises(ApprovalRefused, match="no longer"):
        use(shop, clock, approval)


def test_store_that_needs_two_people_refuses_a_manager_approving_their_own(shop, clock):
    two_people = StoreProfile(approver_must_differ=True)
    with pytest.raises(ApprovalRefused, match="second person"):
        grant(shop, clock, asked_by=MANAGER.id, store=two_people)
    assert grant(shop, clock, asked_by=MANAGER.id).approved_by == MANAGER.id  # the default
    ana = grant(
        shop,
        clock,
        asked_by=MANAGER.id,
        manager_id=OTHER_MANAGER.id,
        pin="975310",
        store=two_people,
    )
    assert ana.approved_by == OTHER_MANAGER.id


def test_manager_role_check_refuses_a_clerk():
    assert require_manager_role(MANAGER, "open Reports") is MANAGER
    with pytest.raises(PermissionDenied, match="only a manager may open Reports; Maria"):
        require_manager_role(CLERK, "open Reports")
    with pytest.raises(PermissionDenied):
        require_manager_role(None, "open Reports")


def test_without_a_chosen_manager_the_pin_says_who_approves(shop, clock):
    assert grant(shop, clock, manager_id=None).approved_by == MANAGER.id  # Sam's PIN
    with pytest.raises(AuthenticationFailed, match="not a manager's PIN"):
        grant(shop, clock, manager_id=None, pin="999999")  # two managers: nobody to blame
    with pytest.raises(AuthenticationFailed, match="wrong PIN for Sam"):
        grant(shop, clock, manager_id=None, pin="999999", asked_by=MANAGER.id)
    assert shop.state["clerks"][MANAGER.id].failed_attempts == 1
