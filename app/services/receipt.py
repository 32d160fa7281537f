"""The customer's receipt: a plain model built from an Order, and its text for a till printer;
the refund receipt of a refund, the same way.

A reprint is a copy: marked COPY, with the refunds made since the sale listed under it (the
screen shows no "Change due" for it: that was handed over at the sale).

Pure: no Qt, no I/O. The desktop app renders the same model to a QTextDocument for preview,
printing and PDF; the text form is what a 42-column thermal printer (and the tests) read.
Times are printed in the till's local time; money is formatted from minor units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from app.domain.money import BASIS_POINTS, DEFAULT_LOCALE, format_minor
from app.domain.order import Order, OrderLine, OrderStatus, TenderKind
from app.domain.product import SoldBy, format_weight
from app.domain.refund import Refund, RefundLine, RefundState, counts, lines_value
from app.domain.store import StoreProfile

RECEIPT_WIDTH = 42
TENDER_LABELS = {
    TenderKind.CASH: "Cash",
    TenderKind.CARD: "Card",
    TenderKind.PAY_LATER: "Pay later",
}


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    detail: str  # "2 × 1.09", "0.742 kg × 1.89/kg", or "" for a single unit
    amount: int  # the line's gross, minor units
    discount: int  # line discount taken off (minor units, positive)
    discount_label: str  # e.g. "Line discount (damaged box)"


@dataclass(frozen=True, slots=True)
class ReceiptTaxRow:
    label: str  # "VAT 7 %"
    taxable: int
    tax: int


@dataclass(frozen=True, slots=True)
class ReceiptTender:
    label: str  # "Cash", "Card", "Pay later"
    amount: int  # what it paid of the order
    tendered: int  # what was handed over


@dataclass(frozen=True, slots=True)
class ReceiptRefund:
    """A refund as a reprint of its sale lists it."""

    printed_time: str
    amount: int
    refunded_to: str  # "in cash", "to the card", "card € 2.00 + cash € 3.00"
    items: tuple[str, ...]  # "1 × Whole milk 1 L"; empty for a refund of an amount only
    approved_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Receipt:
    store_name: str
    store_address: str
    receipt_no: str
    terminal_code: str
    clerk_name: str
    printed_time: str  # local time of the sale, "2026-11-24 14:03"
    currency: str
    status: OrderStatus
    lines: tuple[ReceiptLine, ...]
    subtotal: int  # after line discounts
    order_discount: int
    total: int
    savings: int  # every discount on the receipt
    prices_include_tax: bool
    taxes: tuple[ReceiptTaxRow, ...]
    tax_total: int
    tenders: tuple[ReceiptTender, ...]
    change: int
    locale: str = DEFAULT_LOCALE  # the store's: how its amounts are written
    copy: bool = False  # a reprint: marked COPY
    refunds: tuple[ReceiptRefund, ...] = ()  # done refunds of the sale (a copy lists them)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds)

    def amount(self, minor: int) -> str:
        """An amount of this receipt as printed: the number in the receipt's currency."""
        return format_minor(minor, self.currency, self.locale)

    @property
    def item_count(self) -> int:
        return len(self.lines)


def format_rate(rate_bp: int) -> str:
    """``700`` → ``"7 %"``, ``1050`` → ``"10.5 %"``."""
    whole, rest = divmod(rate_bp, 100)
    if rest == 0:
        return f"{whole} %"
    return f"{whole}.{rest:02d}".rstrip("0") + " %"


def quantity_detail(line: OrderLine, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """How the line's amount came about, as the customer reads it."""
    price = format_minor(line.unit_price, currency, locale)
    if line.sold_by is SoldBy.WEIGHT:
        return f"{format_weight(line.quantity)} × {price}/kg"
    if line.quantity == 1:
        return ""
    return f"{line.quantity} × {price}"


def _discount_label(line: OrderLine) -> str:
    percent = ""
    if line.gross > 0:
        share = line.line_discount * BASIS_POINTS // line.gross
        if share * line.gross == line.line_discount * BASIS_POINTS:
            percent = f"{format_rate(share)} "
    label = f"{percent}discount"
    if line.discount_reason:
        label += f" ({line.discount_reason})"
    return label[0].upper() + label[1:]


def local_time(moment: datetime, tz: tzinfo | None = None) -> str:
    """An aware UTC moment as the till's wall clock (``tz`` for tests; default: system)."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def refunded_to(refund: Refund, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """Where a refund's money went, as the customer reads it."""
    if refund.card_amount and refund.cash_amount:
        return (
            f"card {format_minor(refund.card_amount, currency, locale)} + "
            f"cash {format_minor(refund.cash_amount, currency, locale)}"
        )
    return "to the card" if refund.card_amount else "in cash"


def _line_words(order: Order, line: RefundLine) -> str:
    sold = {ln.line_no: ln for ln in order.lines}.get(line.line_no)
    if sold is None:
        return f"{line.quantity} × line {line.line_no}"
    if sold.sold_by is SoldBy.WEIGHT:
        return f"{format_weight(line.quantity)} {sold.name}"
    return f"{line.quantity} × {sold.name}"


def _done(refunds: Iterable[Refund]) -> list[Refund]:
    return sorted(
        (r for r in refunds if r.state is RefundState.DONE),
        key=lambda r: (r.refunded_at or r.created_at, r.id),
    )


def build_receipt(
    order: Order,
    store: StoreProfile,
    tz: tzinfo | None = None,
    *,
    copy: bool = False,
    refunds: Iterable[Refund] = (),
) -> Receipt:
    """The sale's receipt; ``copy`` for a reprint, which lists the sale's done ``refunds``."""
    lines = tuple(
        ReceiptLine(
            name=line.name,
            detail=quantity_detail(line, order.currency, store.locale),
            amount=line.gross,
            discount=line.line_discount,
            discount_label=_discount_label(line) if line.line_discount else "",
        )
        for line in order.lines
    )
    order_discount = sum(line.order_discount_share for line in order.lines)
    return Receipt(
        store_name=store.store_name,
        store_address=store.store_address,
        receipt_no=order.receipt_no,
        terminal_code=order.terminal_code,
        clerk_name=order.clerk_name,
        printed_time=local_time(order.paid_at or order.created_at, tz),
        currency=order.currency,
        status=order.status,
        lines=lines,
        subtotal=order.subtotal,
        order_discount=order_discount,
        total=order.total,
        savings=order.discount_total,
        prices_include_tax=order.prices_include_tax,
        taxes=tuple(ReceiptTaxRow(entry.label, entry.taxable, entry.tax) for entry in order.tax),
        tax_total=order.tax_total,
        tenders=tuple(
            ReceiptTender(TENDER_LABELS.get(t.kind, t.kind.value), t.amount, t.tendered)
            for t in order.tenders
        ),
        change=order.change,
        locale=store.locale,
        copy=copy,
        refunds=tuple(
            ReceiptRefund(
                printed_time=local_time(r.refunded_at or r.created_at, tz),
                amount=r.amount,
                refunded_to=refunded_to(r, order.currency, store.locale),
                items=tuple(_line_words(order, line) for line in r.lines),
                approved_by=r.clerk_name,
                reason=r.reason,
            )
            for r in _done(refunds)
        ),
    )


def _row(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line, right-aligned; a long left side wraps above."""
    room = width - len(right) - 1
    if len(left) <= room:
        return left + " " * (width - len(left) - len(right)) + right
    return left[:width] + "\n" + right.rjust(width)


def _centre(text: str, width: int) -> str:
    return text[:width].center(width).rstrip()


def _store_heading(name: str, address: str, width: int) -> list[str]:
    """The store's name and address centred, then a blank line: how every slip begins."""
    return [_centre(name, width), _centre(address, width), ""]


def receipt_text(receipt: Receipt, width: int = RECEIPT_WIDTH) -> str:
    """The receipt as fixed-width text (what a thermal printer prints)."""
    rule = "-" * width
    out = _store_heading(receipt.store_name, receipt.store_address, width)
    if receipt.copy:
        out += [_centre("*** COPY ***", width), ""]
    if receipt.status is OrderStatus.VOIDED:
        out += [_centre("*** VOIDED ***", width), ""]
    elif receipt.status is OrderStatus.REFUNDED:
        out += [_centre("*** REFUNDED ***", width), ""]
    out += [
        _row(f"Receipt {receipt.receipt_no}", receipt.printed_time, width),
        rule,
    ]
    for line in receipt.lines:
        if line.detail:
            out.append(line.name[:width])
            out.append(_row(f"  {line.detail}", receipt.amount(line.amount), width))
        else:
            out.append(_row(line.name, receipt.amount(line.amount), width))
        if line.discount:
            out.append(_row(f"  {line.discount_label}", receipt.amount(-line.discount), width))
    out.append(rule)
    out.append(_row("Subtotal", receipt.amount(receipt.subtotal), width))
    if receipt.order_discount:
        out.append(_row("Order discount", receipt.amount(-receipt.order_discount), width))
    out.append(_row(f"TOTAL {receipt.currency}", receipt.amount(receipt.total), width))
    out.append(rule)
    for tender in receipt.tenders:
        out.append(_row(tender.label, receipt.amount(tender.tendered), width))
    if receipt.change:
        out.append(_row("Change", receipt.amount(receipt.change), width))
    if receipt.refunds:
        out += [rule, "REFUNDS"]
        for refund in receipt.refunds:
            out.append(
                _row(
                    f"{refund.printed_time} {refund.refunded_to}",
                    receipt.amount(-refund.amount),
                    width,
                )
            )
            out += [f"  {item}"[:width] for item in refund.items]
            out.append(f"  {refund.reason} · approved by {refund.approved_by}"[:width])
        out.append(
            _row("Paid less refunds", receipt.amount(receipt.total - receipt.refunded), width)
        )
    out.append("")
    wording = "incl." if receipt.prices_include_tax else "plus"
    for tax in receipt.taxes:
        out.append(
            _row(
                f"{wording} {tax.label} on {receipt.amount(tax.taxable)}",
                receipt.amount(tax.tax),
                width,
            )
        )
    if len(receipt.taxes) > 1:
        out.append(_row("Tax total", receipt.amount(receipt.tax_total), width))
    if receipt.savings:
        out += ["", _centre(f"You saved {receipt.amount(receipt.savings)}", width)]
    out += [
        "",
        _centre(f"Served by {receipt.clerk_name} · Till {receipt.terminal_code}", width),
        _centre("Thank you for shopping with us", width),
    ]
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class RefundReceiptLine:
    name: str
    detail: str  # "1 of 2", "0.250 kg of 0.742 kg"
    amount: int | None  # what it is worth; None when the refund for the lines was lowered


@dataclass(frozen=True, slots=True)
class RefundReceipt:
    """The slip of one refund: of which sale, what came back, how much, where the money
    went, who approved it and when."""

    store_name: str
    store_address: str
    receipt_no: str  # the original sale's
    refund_ref: str  # the refund's id, short (the server knows the refund by it)
    terminal_code: str
    printed_time: str
    currency: str
    lines: tuple[RefundReceiptLine, ...]
    amount: int
    card_amount: int
    cash_amount: int
    approved_by: str
    reason: str
    order_total: int
    refunded_total: int  # of the sale, this refund included
    locale: str = DEFAULT_LOCALE
    with_receipt: bool = True  # False: returned without a receipt (a manager approved it)
    copy: bool = False  # printed again later

    def amount_text(self, minor: int) -> str:
        return format_minor(minor, self.currency, self.locale)

    @property
    def title(self) -> str:
        return f"Refund of receipt {self.receipt_no}"


def build_refund_receipt(
    order: Order,
    refund: Refund,
    store: StoreProfile,
    refunds: Iterable[Refund] = (),
    tz: tzinfo | None = None,
    *,
    with_receipt: bool = True,
    copy: bool = False,
) -> RefundReceipt:
    """The slip of ``refund`` of ``order``; ``refunds`` are the order's refunds (this one
    may be among them): those before it set what each returned line is worth."""
    moment = refund.refunded_at or refund.created_at
    earlier = [
        r
        for r in refunds
        if r.id != refund.id and counts(r) and (r.refunded_at or r.created_at) <= moment
    ]
    before: dict[int, int] = {}
    for r in earlier:
        for line in r.lines:
            before[line.line_no] = before.get(line.line_no, 0) + line.quantity
    sold = {ln.line_no: ln for ln in order.lines}
    values: list[int] = []
    for line in refund.lines:
        values.append(lines_value(order, before, [line]))
        before[line.line_no] = before.get(line.line_no, 0) + line.quantity
    exact = sum(values) == refund.amount
    lines: list[RefundReceiptLine] = []
    for line, value in zip(refund.lines, values, strict=True):
        item = sold.get(line.line_no)
        if item is None:
            lines.append(RefundReceiptLine(f"line {line.line_no}", str(line.quantity), None))
            continue
        if item.sold_by is SoldBy.WEIGHT:
            detail = f"{format_weight(line.quantity)} of {format_weight(item.quantity)}"
        else:
            detail = f"{line.quantity} of {item.quantity}"
        lines.append(RefundReceiptLine(item.name, detail, value if exact else None))
    if not lines:
        lines.append(RefundReceiptLine("Refund of an amount (no goods back)", "", refund.amount))
    return RefundReceipt(
        store_name=store.store_name,
        store_address=store.store_address,
        receipt_no=order.receipt_no,
        refund_ref=refund.id[-12:].upper(),
        terminal_code=order.terminal_code,
        printed_time=local_time(moment, tz),
        currency=order.currency,
        lines=tuple(lines),
        amount=refund.amount,
        card_amount=refund.card_amount,
        cash_amount=refund.cash_amount,
        approved_by=refund.clerk_name,
        reason=refund.reason,
        order_total=order.total,
        refunded_total=sum(r.amount for r in earlier) + refund.amount,
        locale=store.locale,
        with_receipt=with_receipt,
        copy=copy,
    )


def refund_receipt_text(slip: RefundReceipt, width: int = RECEIPT_WIDTH) -> str:
    """The refund slip as fixed-width text (what a thermal printer prints)."""
    rule = "-" * width
    out = _store_heading(slip.store_name, slip.store_address, width)
    out += [
        _centre("*** REFUND · COPY ***" if slip.copy else "*** REFUND ***", width),
        "",
        _row(f"Receipt {slip.receipt_no}", slip.printed_time, width),
        f"Refund {slip.refund_ref}"[:width],
        rule,
    ]
    for line in slip.lines:
        amount = slip.amount_text(line.amount) if line.amount is not None else ""
        if line.detail:
            out.append(line.name[:width])
            out.append(_row(f"  {line.detail}", amount, width))
        else:
            out.append(_row(line.name, amount, width))
    out.append(rule)
    out.append(_row(f"REFUNDED {slip.currency}", slip.amount_text(slip.amount), width))
    if slip.card_amount:
        out.append(_row("To the card", slip.amount_text(slip.card_amount), width))
    if slip.cash_amount:
        out.append(_row("In cash", slip.amount_text(slip.cash_amount), width))
    out += [rule, f"Reason: {slip.reason}"[:width]]
    if not slip.with_receipt:
        out.append("Returned without a receipt")
    out += [
        _row(
            "Refunded of this sale",
            f"{slip.amount_text(slip.refunded_total)} of {slip.amount_text(slip.order_total)}",
            width,
        ),
        "",
        _centre(f"Approved by {slip.approved_by} · Till {slip.terminal_code}", width),
    ]
    return "\n".join(out) + "\n"
