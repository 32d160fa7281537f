"""The customer's receipt: a plain model built from an Order, and its text for a till printer.

Pure: no Qt, no I/O. The desktop app renders the same model to a QTextDocument for preview,
printing and PDF; the text form is what a 42-column thermal printer (and the tests) read.
Times are printed in the till's local time; money is formatted from minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from app.domain.money import BASIS_POINTS, DEFAULT_LOCALE, format_minor
from app.domain.order import Order, OrderLine, OrderStatus, TenderKind
from app.domain.product import SoldBy, format_weight
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


def quantity_detail(line: OrderLine, currency: str = "EUR", locale: str = DEFAULT_LOCALE) -> str:
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


def build_receipt(order: Order, store: StoreProfile, tz: tzinfo | None = None) -> Receipt:
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
    )


def _row(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line, right-aligned; a long left side wraps above."""
    room = width - len(right) - 1
    if len(left) <= room:
        return left + " " * (width - len(left) - len(right)) + right
    return left[:width] + "\n" + right.rjust(width)


def _centre(text: str, width: int) -> str:
    return text[:width].center(width).rstrip()


def receipt_text(receipt: Receipt, width: int = RECEIPT_WIDTH) -> str:
    """The receipt as fixed-width text (what a thermal printer prints)."""
    rule = "-" * width
    out: list[str] = [
        _centre(receipt.store_name, width),
        _centre(receipt.store_address, width),
        "",
    ]
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
