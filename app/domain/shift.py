"""Shifts, the cash drawer, and the X and Z figures of a shift (docs/manager.md).

A shift is one drawer session of one terminal: opened with a float counted per denomination,
closed with the drawer counted again. Every figure is an ``int`` of minor units and is a plain
sum over the shift's sales, refunds, voids, cancellations and cash movements, so the figures of
two sets of sales add up: the final Z of a shift closed during an outage is its provisional Z
plus the sales that reached the server after the close (``final_z``).

The figures (``z_figures``):

* a **sale** is an order paid while the shift was open (whatever became of it later: a void or
  a refund is its own figure, counted in the shift it was made in); ``sales_count``, first and
  last receipt number are over the sales;
* ``gross_sales`` = Σ (total + discounts) of the sales: what they would have taken without
  discounts; ``discounts`` = Σ their discounts;
* ``refunds`` = Σ the refunds given during the shift; ``voids`` = Σ the totals of the orders
  voided during the shift; ``cancellations`` = Σ the sales cancelled before payment (they took
  no money: counted, never subtracted);
* ``net_sales`` = gross_sales − discounts − refunds − voids;
* tax per rate over the sales (net, tax, gross of each rate);
* tenders per kind over the sales (what each tender paid, change already given back);
* cash: ``expected_cash`` = float + cash_sales − cash_refunds − cash_voids + paid_in −
  paid_out (a no-sale opens the drawer and moves no money).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.domain.audit import AuditAction, AuditEntry
from app.domain.errors import InvalidInput, PosError
from app.domain.money import format_minor
from app.domain.order import Order, TenderKind
from app.domain.refund import Refund, RefundState

# The notes and coins of each currency, largest first, in minor units.
DENOMINATIONS: Mapping[str, tuple[int, ...]] = {
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "USD": (10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5, 1),
    "CHF": (100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5),
}
MAX_PIECES = 100_000  # of one denomination in one drawer: more is a typing slip


class ShiftError(PosError):
    code = "shift_error"


class NoOpenShift(ShiftError):
    """A sale, a cash movement or a close needs the terminal's shift to be open."""

    code = "no_open_shift"


class ShiftAlreadyOpen(ShiftError):
    code = "shift_already_open"


class ZReportFinal(ShiftError):
    """A final Z report is never changed."""

    code = "z_report_final"


def denominations(currency: str) -> tuple[int, ...]:
    try:
        return DENOMINATIONS[currency]
    except KeyError:
        raise InvalidInput(
            f"no notes and coins are known for currency {currency!r}", field="currency"
        ) from None


def denomination_label(value: int, currency: str) -> str:
    """50000 → "500.00", 5 → "0.05" in EUR, 10000 → "10000" in JPY (as the count grid shows a
    row)."""
    return format_minor(value, currency)


@dataclass(frozen=True, slots=True)
class CashCount:
    """How many of each note and coin (minor units → pieces); only counted ones are kept."""

    currency: str
    counts: Mapping[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(value * pieces for value, pieces in self.counts.items())

    @classmethod
    def from_counts(cls, currency: str, counts: Mapping[int, int] | Mapping[str, int]) -> CashCount:
        """Check a count: every denomination one of the currency's, every count a whole number
        of pieces from 0 to ``MAX_PIECES``. Keys may be ints or their decimal strings (the
        wire's JSON keys). Zero counts are dropped."""
        known = denominations(currency)
        checked: dict[int, int] = {}
        for key, pieces in counts.items():
            try:
                value = int(key)
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"{key!r} is not a denomination of {currency}", field="counts"
                ) from None
            if value not in known:
                raise InvalidInput(
                    f"{format_minor(value, currency)} is not a note or coin of {currency}",
                    field=f"counts.{value}",
                )
            if isinstance(pieces, bool) or not isinstance(pieces, int):
                raise InvalidInput(
                    f"the count of {format_minor(value, currency)} must be a whole number",
                    field=f"counts.{value}",
                )
            if pieces < 0:
                raise InvalidInput(
                    f"the count of {format_minor(value, currency)} cannot be negative ({pieces})",
                    field=f"counts.{value}",
                )
            if pieces > MAX_PIECES:
                raise InvalidInput(
                    f"{pieces} pieces of {format_minor(value, currency)} is more than a "
                    "drawer holds",
                    field=f"counts.{value}",
                )
            if pieces:
                checked[value] = checked.get(value, 0) + pieces
        return cls(currency, dict(sorted(checked.items(), reverse=True)))

    def as_wire(self) -> dict[str, int]:
        """Denomination (decimal string) → pieces, as JSON keys must be strings."""
        return {str(value): pieces for value, pieces in self.counts.items()}


class CashMovementKind(enum.StrEnum):
    PAID_IN = "paid_in"
    PAID_OUT = "paid_out"
    NO_SALE = "no_sale"  # the drawer opened without a sale: no money, a manager, audited


@dataclass(frozen=True, slots=True)
class CashMovement:
    id: str
    shift_id: str
    kind: CashMovementKind
    amount: int  # 0 for a no-sale
    reason: str
    clerk_id: str
    approval_id: str | None
    at: datetime


def check_cash_movement(kind: CashMovementKind, amount: int, reason: str) -> None:
    if not reason.strip():
        raise InvalidInput(f"a {kind.value.replace('_', ' ')} needs a reason", field="reason")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput("the amount must be whole minor units", field="amount")
    if kind is CashMovementKind.NO_SALE:
        if amount != 0:
            raise InvalidInput("a no-sale moves no money: its amount is 0", field="amount")
    elif amount <= 0:
        raise InvalidInput(
            f"a {kind.value.replace('_', ' ')} must be more than 0.00", field="amount"
        )


class ShiftState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ZStatus(enum.StrEnum):
    PROVISIONAL = "provisional"  # closed while some of its sales had not reached the server
    FINAL = "final"  # every sale of the shift is on the server; never changed again


@dataclass(frozen=True, slots=True)
class Shift:
    id: str
    terminal_code: str
    opened_at: datetime
    opened_by: str  # clerk id
    float_count: CashCount
    state: ShiftState = ShiftState.OPEN
    closed_at: datetime | None = None
    closed_by: str | None = None
    opened_by_name: str = ""

    @property
    def float_amount(self) -> int:
        return self.float_count.total

    def holds(self, moment: datetime) -> bool:
        """``moment`` falls in the shift (from its opening to its close, the close excluded)."""
        return self.opened_at <= moment and (self.closed_at is None or moment < self.closed_at)


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate_bp: int
    label: str
    net: int
    tax: int
    gross: int


@dataclass(frozen=True, slots=True)
class TenderTotal:
    kind: str
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class ShiftVoid:
    """An order voided during the shift: its total, and the cash of it handed back."""

    order_id: str
    receipt_no: str
    amount: int
    cash_amount: int
    at: datetime


@dataclass(frozen=True, slots=True)
class ReportedSale:
    """A sale named on a Z report apart from its figures: still waiting to sync at the close,
    or (on the final) synced after the close."""

    order_id: str
    receipt_no: str
    paid_at: datetime
    total: int
    cash_amount: int


@dataclass(frozen=True, slots=True)
class ZFigures:
    sales_count: int
    first_receipt_no: str
    last_receipt_no: str
    clerks: tuple[str, ...]
    gross_sales: int
    discounts: int
    refunds_count: int
    refunds: int
    voids_count: int
    voids: int
    cancellations_count: int
    cancellations: int
    net_sales: int
    tax: tuple[TaxLine, ...]
    tenders: tuple[TenderTotal, ...]
    cash_sales: int
    cash_refunds: int
    cash_voids: int
    paid_in: int
    paid_out: int
    no_sales: int
    float_amount: int
    expected_cash: int
    phone_orders_taken: int
    phone_orders_paid: int

    def tender(self, kind: str) -> TenderTotal:
        for total in self.tenders:
            if total.kind == kind:
                return total
        return TenderTotal(kind, 0, 0)


PHONE_KINDS = frozenset({"phone", "delivery"})


def cash_of(order: Order) -> int:
    """What the order's cash tenders kept in the drawer (change already given back)."""
    return sum(t.amount for t in order.tenders if t.kind is TenderKind.CASH)


def reported_sale(order: Order) -> ReportedSale:
    assert order.paid_at is not None
    return ReportedSale(order.id, order.receipt_no, order.paid_at, order.total, cash_of(order))


def z_figures(
    orders: Iterable[Order],
    refunds: Iterable[Refund] = (),
    voids: Iterable[ShiftVoid] = (),
    cancellations: Iterable[AuditEntry] = (),
    movements: Iterable[CashMovement] = (),
    float_amount: int = 0,
    *,
    clerks: Sequence[str] = (),
    phone_orders_taken: int = 0,
) -> ZFigures:
    """The figures of a shift (pure). ``orders`` are its sales (paid while it was open),
    ``refunds`` the done refunds, ``voids`` the voids, ``cancellations`` the audit entries of
    sales cancelled before payment, ``movements`` the paid in/out and no-sales, all made
    during the shift. ``clerks`` are named first (the clerk who opened the shift), then the
    clerks of the sales in the order they first sold. ``phone_orders_taken`` is how many
    phone orders the terminal took in the shift; the paid ones are its sales of that kind."""
    sales = sorted(orders, key=lambda o: (o.sequence, o.receipt_no))
    names: list[str] = []
    for name in (*clerks, *(o.clerk_name for o in sales)):
        if name and name not in names:
            names.append(name)
    discounts = sum(o.discount_total for o in sales)
    gross_sales = sum(o.total for o in sales) + discounts
    tax: dict[tuple[int, str], list[int]] = {}
    for order in sales:
        for entry in order.tax:
            net = entry.taxable - entry.tax if order.prices_include_tax else entry.taxable
            sums = tax.setdefault((entry.rate_bp, entry.label), [0, 0])
            sums[0] += net
            sums[1] += entry.tax
    tenders: dict[str, list[int]] = {}
    for order in sales:
        for tender in order.tenders:
            sums = tenders.setdefault(tender.kind.value, [0, 0])
            sums[0] += 1
            sums[1] += tender.amount
    done_refunds = [r for r in refunds if r.state is RefundState.DONE]
    refund_total = sum(r.amount for r in done_refunds)
    cash_refunds = sum(r.cash_amount for r in done_refunds)
    void_list = list(voids)
    void_total = sum(v.amount for v in void_list)
    cash_voids = sum(v.cash_amount for v in void_list)
    cancelled = [c for c in cancellations if c.action is AuditAction.SALE_CANCELLED]
    moves = list(movements)
    paid_in = sum(m.amount for m in moves if m.kind is CashMovementKind.PAID_IN)
    paid_out = sum(m.amount for m in moves if m.kind is CashMovementKind.PAID_OUT)
    cash_sales = sum(cash_of(o) for o in sales)
    order_of_kinds = [kind.value for kind in TenderKind]
    return ZFigures(
        sales_count=len(sales),
        first_receipt_no=sales[0].receipt_no if sales else "",
        last_receipt_no=sales[-1].receipt_no if sales else "",
        clerks=tuple(names),
        gross_sales=gross_sales,
        discounts=discounts,
        refunds_count=len(done_refunds),
        refunds=refund_total,
        voids_count=len(void_list),
        voids=void_total,
        cancellations_count=len(cancelled),
        cancellations=sum(c.amount for c in cancelled),
        net_sales=gross_sales - discounts - refund_total - void_total,
        tax=tuple(
            TaxLine(rate_bp, label, net, tax_amount, net + tax_amount)
            for (rate_bp, label), (net, tax_amount) in sorted(tax.items())
        ),
        tenders=tuple(
            TenderTotal(kind, count, amount)
            for kind, (count, amount) in sorted(
                tenders.items(),
                key=lambda item: (
                    order_of_kinds.index(item[0]) if item[0] in order_of_kinds else 99,
                    item[0],
                ),
            )
        ),
        cash_sales=cash_sales,
        cash_refunds=cash_refunds,
        cash_voids=cash_voids,
        paid_in=paid_in,
        paid_out=paid_out,
        no_sales=sum(1 for m in moves if m.kind is CashMovementKind.NO_SALE),
        float_amount=float_amount,
        expected_cash=float_amount + cash_sales - cash_refunds - cash_voids + paid_in - paid_out,
        phone_orders_taken=phone_orders_taken,
        phone_orders_paid=sum(1 for o in sales if o.extra.get("kind", "counter") in PHONE_KINDS),
    )


x_figures = z_figures  # an X report is the same figures, taken at any time, closing nothing


@dataclass(frozen=True, slots=True)
class ZReport:
    shift_id: str
    terminal_code: str
    z_number: int
    status: ZStatus
    opened_at: datetime
    closed_at: datetime
    closed_by: str
    figures: ZFigures  # over the sales that had reached the server at the close (final: all)
    waiting: tuple[ReportedSale, ...]  # not yet on the server at the close
    synced_after_close: tuple[ReportedSale, ...]  # final only: the waiting ones, synced since
    counted: CashCount
    expected_cash: int  # ALL the shift's cash, waiting sales included: never variance
    finalised_at: datetime | None = None
    opened_by: str = ""

    @property
    def difference(self) -> int:
        """Counted − expected: positive is over, negative is short."""
        return self.counted.total - self.expected_cash

    @property
    def is_final(self) -> bool:
        return self.status is ZStatus.FINAL

    @property
    def waiting_total(self) -> int:
        return sum(s.total for s in self.waiting)


def close_z(
    shift: Shift,
    z_number: int,
    closed_at: datetime,
    closed_by: str,
    counted: CashCount,
    orders: Sequence[Order],
    unsynced: Collection[str],
    refunds: Sequence[Refund] = (),
    voids: Sequence[ShiftVoid] = (),
    cancellations: Sequence[AuditEntry] = (),
    movements: Sequence[CashMovement] = (),
    *,
    clerks: Sequence[str] = (),
    phone_orders_taken: int = 0,
) -> ZReport:
    """The Z report made at the close. ``unsynced`` are the ids of the shift's sales that
    have not reached the server: the figures leave them out and list them in ``waiting``;
    the expected cash counts them (a sale that has not synced is still cash in the drawer).
    Nothing waiting: the report is final at once."""
    if counted.currency != shift.float_count.currency:
        raise InvalidInput(
            f"the drawer was counted in {counted.currency}, the float in "
            f"{shift.float_count.currency}",
            field="counted",
        )
    synced = [o for o in orders if o.id not in unsynced]
    waiting = tuple(
        reported_sale(o) for o in sorted(orders, key=lambda o: o.sequence) if o.id in unsynced
    )

    def figures(sales: Sequence[Order]) -> ZFigures:
        return z_figures(
            sales,
            refunds,
            voids,
            cancellations,
            movements,
            shift.float_amount,
            clerks=clerks,
            phone_orders_taken=phone_orders_taken,
        )

    everything = figures(orders)
    final = not waiting
    return ZReport(
        shift_id=shift.id,
        terminal_code=shift.terminal_code,
        z_number=z_number,
        status=ZStatus.FINAL if final else ZStatus.PROVISIONAL,
        opened_at=shift.opened_at,
        closed_at=closed_at,
        closed_by=closed_by,
        figures=everything if final else figures(synced),
        waiting=waiting,
        synced_after_close=(),
        counted=counted,
        expected_cash=everything.expected_cash,
        finalised_at=closed_at if final else None,
        opened_by=shift.opened_by,
    )


def final_z(provisional: ZReport, figures: ZFigures, at: datetime) -> ZReport:
    """The final of a provisional Z, once every sale of its shift reached the server.
    ``figures`` are over all of the shift's sales (the same refunds, voids and movements as
    at the close); the waiting sales move to ``synced_after_close``; the count, the Z number
    and the expected cash stay as they were."""
    if provisional.is_final:
        raise ZReportFinal(
            f"Z {provisional.z_number} of {provisional.terminal_code} is final already",
            field="status",
        )
    if figures.expected_cash != provisional.expected_cash:
        currency = provisional.counted.currency
        raise ShiftError(
            f"Z {provisional.z_number}: the shift's cash changed after the close "
            f"({format_minor(provisional.expected_cash, currency)} → "
            f"{format_minor(figures.expected_cash, currency)})",
            field="expected_cash",
        )
    return replace(
        provisional,
        status=ZStatus.FINAL,
        figures=figures,
        waiting=(),
        synced_after_close=provisional.waiting,
        finalised_at=at,
    )


# ------------------------------------------------------------------------- events to the server


@dataclass(frozen=True, slots=True)
class ShiftOpened:
    """A shift opened (its event id is the shift's id: a shift opens once)."""

    shift: Shift

    @property
    def event_id(self) -> str:
        return self.shift.id

    @property
    def occurred_at(self) -> datetime:
        return self.shift.opened_at


@dataclass(frozen=True, slots=True)
class CashMoved:
    """Paid in, paid out or a no-sale (its event id is the movement's id)."""

    movement: CashMovement

    @property
    def event_id(self) -> str:
        return self.movement.id

    @property
    def occurred_at(self) -> datetime:
        return self.movement.at


@dataclass(frozen=True, slots=True)
class ShiftClosed:
    """A Z report: sent at the close (provisional or final) and again, as a new event, when a
    provisional one becomes final."""

    event_id: str
    report: ZReport

    @property
    def occurred_at(self) -> datetime:
        return self.report.finalised_at or self.report.closed_at


ShiftEvent = ShiftOpened | CashMoved | ShiftClosed
