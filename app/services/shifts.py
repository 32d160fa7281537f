"""Shifts and the cash drawer: open with a float, paid in/out and no-sale, X report, close
with a count into a Z report, and the final of a Z closed during an outage (docs/manager.md).

Every use case runs in one transaction with its outbox event (``shift.opened``,
``cash.moved``, ``shift.closed``). A no-sale, and a paid-out above
``StoreProfile.paid_out_approval_limit``, take a manager's approval through
``use_approval`` (single-use, audited, in the same transaction).
"""

from __future__ import annotations

from datetime import datetime

from app.domain.approval import Approval, ApprovalAction, approval_subject
from app.domain.clerk import Clerk
from app.domain.errors import InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.money import format_minor
from app.domain.shift import (
    CashCount,
    CashMoved,
    CashMovement,
    CashMovementKind,
    NoOpenShift,
    Shift,
    ShiftAlreadyOpen,
    ShiftClosed,
    ShiftOpened,
    ZFigures,
    ZReport,
    check_cash_movement,
    close_z,
    final_z,
    z_figures,
)
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, UnitOfWork
from app.services.approvals import require_manager_role, use_approval


def z_sequence_name(terminal_code: str) -> str:
    return f"z_report:{terminal_code}"


def _check_currency(store: StoreProfile, count: CashCount, what: str) -> None:
    if count.currency != store.currency:
        raise InvalidInput(
            f"the {what} is counted in {count.currency}; this store takes {store.currency}",
            field="counts",
        )


def open_shift(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    float_count: CashCount,
) -> Shift:
    """Open the terminal's shift with the float counted into the drawer."""
    _check_currency(store, float_count, "float")
    with uow:
        if (open_now := uow.shifts.current()) is not None:
            raise ShiftAlreadyOpen(
                f"{open_now.opened_by_name or 'a clerk'}'s shift is open on "
                f"{store.terminal_code}: close it first",
                field="shift",
            )
        shift = Shift(
            id=ids.new_id(),
            terminal_code=store.terminal_code,
            opened_at=clock.now(),
            opened_by=clerk.id,
            float_count=float_count,
            opened_by_name=clerk.name,
        )
        uow.shifts.add(shift)
        uow.outbox.add(ShiftOpened(shift))
        uow.commit()
    return shift


def current_shift(uow: UnitOfWork) -> Shift | None:
    with uow:
        return uow.shifts.current()


def _open_shift_or_refuse(uow: UnitOfWork, what: str) -> Shift:
    shift = uow.shifts.current()
    if shift is None:
        raise NoOpenShift(f"open a shift (Shift → Open shift…) before {what}", field="shift")
    return shift


def record_cash_movement(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    kind: CashMovementKind,
    amount: int,
    reason: str,
    approval: Approval | None = None,
) -> CashMovement:
    """Paid in, paid out (a manager's approval above the store's limit) or a no-sale drawer
    open (always a manager's approval); ``amount`` is 0 for a no-sale."""
    kind = CashMovementKind(kind)
    check_cash_movement(kind, amount, reason)
    now = clock.now()
    with uow:
        shift = _open_shift_or_refuse(uow, f"recording a {kind.value.replace('_', ' ')}")
        used: Approval | None = None
        if kind is CashMovementKind.NO_SALE:
            used = use_approval(
                uow,
                clock,
                approval,
                ApprovalAction.NO_SALE,
                approval_subject(ApprovalAction.NO_SALE, shift=shift.id),
                "opening the drawer without a sale",
            )
        elif kind is CashMovementKind.PAID_OUT and amount > store.paid_out_approval_limit:
            used = use_approval(
                uow,
                clock,
                approval,
                ApprovalAction.PAID_OUT,
                approval_subject(ApprovalAction.PAID_OUT, shift=shift.id, amount=amount),
                f"a paid out of {format_minor(amount, store.currency, store.locale)} is above "
                f"{format_minor(store.paid_out_approval_limit, store.currency, store.locale)}",
                amount=amount,
            )
        movement = CashMovement(
            id=ids.new_id(),
            shift_id=shift.id,
            kind=kind,
            amount=amount,
            reason=reason.strip(),
            clerk_id=clerk.id,
            approval_id=used.id if used else None,
            at=now,
        )
        uow.shifts.add_movement(movement)
        uow.outbox.add(CashMoved(movement))
        uow.commit()
    return movement


def _figures(uow: UnitOfWork, shift: Shift, until: datetime | None) -> ZFigures:
    return z_figures(
        uow.shifts.sales(shift.id),
        uow.shifts.refunds(shift.opened_at, until),
        uow.shifts.voids(shift.opened_at, until),
        uow.shifts.cancellations(shift.opened_at, until),
        uow.shifts.movements(shift.id),
        shift.float_amount,
        clerks=[shift.opened_by_name],
        phone_orders_taken=uow.shifts.phone_orders_taken(
            shift.terminal_code, shift.opened_at, until
        ),
    )


def x_report(uow: UnitOfWork, store: StoreProfile, shift_id: str | None = None) -> ZFigures:
    """The figures of the shift so far (the open one by default); closes and resets nothing."""
    with uow:
        shift = uow.shifts.get(shift_id) if shift_id else uow.shifts.current()
        if shift is None:
            raise NoOpenShift(f"no shift is open on {store.terminal_code}", field="shift")
        return _figures(uow, shift, shift.closed_at)


def close_shift(
    uow: UnitOfWork,
    ids: IdFactory,
    clock: Clock,
    store: StoreProfile,
    clerk: Clerk,
    counted: CashCount,
) -> ZReport:
    """Close the open shift with the drawer counted: the Z report takes the terminal's next
    Z number. Provisional while any sale of the shift has not reached the server (the count
    is kept; the final follows by itself, ``finalise_ready_shifts``); final at once otherwise.
    Only the clerk who opened the shift, or a manager, closes it."""
    _check_currency(store, counted, "drawer")
    now = clock.now()
    with uow:
        shift = _open_shift_or_refuse(uow, "closing it")
        if clerk.id != shift.opened_by:
            require_manager_role(clerk, f"close {shift.opened_by_name or 'another clerk'}'s shift")
        z_number = uow.sequences.next_value(z_sequence_name(shift.terminal_code))
        uow.shifts.close(shift.id, now, clerk.id)
        closed = uow.shifts.get(shift.id)
        assert closed is not None
        report = close_z(
            closed,
            z_number,
            now,
            clerk.id,
            counted,
            uow.shifts.sales(shift.id),
            uow.shifts.unsynced_sales(shift.id),
            uow.shifts.refunds(shift.opened_at, now),
            uow.shifts.voids(shift.opened_at, now),
            uow.shifts.cancellations(shift.opened_at, now),
            uow.shifts.movements(shift.id),
            clerks=[shift.opened_by_name],
            phone_orders_taken=uow.shifts.phone_orders_taken(
                shift.terminal_code, shift.opened_at, now
            ),
        )
        uow.shifts.add_z(report)
        uow.outbox.add(ShiftClosed(ids.new_id(), report))
        uow.commit()
    return report


def finalise_ready_shifts(
    uow: UnitOfWork, clock: Clock, ids: IdFactory | None = None
) -> list[ZReport]:
    """Make final every provisional Z whose shift has reached the server whole: its sales,
    its opening and its cash movements acknowledged. Each final is queued as a new
    ``shift.closed`` event. Called by the sync engine after each push; returns the finals."""
    finals: list[ZReport] = []
    with uow:
        for provisional in uow.shifts.provisional():
            shift = uow.shifts.get(provisional.shift_id)
            if shift is None or uow.shifts.unsynced_sales(shift.id):
                continue
            own_events = [shift.id, *(m.id for m in uow.shifts.movements(shift.id))]
            if uow.shifts.events_waiting(own_events):
                continue
            final = final_z(provisional, _figures(uow, shift, shift.closed_at), clock.now())
            uow.shifts.replace_z(final)
            uow.outbox.add(ShiftClosed(ids.new_id() if ids else new_id(), final))
            finals.append(final)
        if finals:
            uow.commit()
    return finals


def z_reports(uow: UnitOfWork, limit: int = 50) -> list[ZReport]:
    """The terminal's Z reports, newest first."""
    with uow:
        return uow.shifts.z_list(limit)


def z_report(uow: UnitOfWork, shift_id: str) -> ZReport:
    with uow:
        report = uow.shifts.z(shift_id)
    if report is None:
        raise NotFound(f"no Z report for shift {shift_id}", field="shift_id")
    return report
