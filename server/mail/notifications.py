"""Customer e-mails: rendered from Jinja2 templates (HTML and plain text) and written to
the mail outbox in the caller's transaction — the same one as the change that causes them.

Each e-mail has a ``dedupe_key`` (unique): an order is confirmed once, a refund receipted
once, a payment link mailed once per address, however often the cause is replayed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.contact import is_sendable_email
from app.domain.money import format_money
from app.domain.product import format_quantity
from server.models import MailOutbox, Order, OrderLine, Payment, PaymentRefund, Store
from server.sql import dialect_insert

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    env = environment()
    text = env.get_template(f"mail/{template}.txt").render(**context)
    html = env.get_template(f"mail/{template}.html").render(**context)
    return text, html


def queue_mail(
    session: Session,
    *,
    store_id: uuid.UUID | None,
    kind: str,
    dedupe_key: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
) -> int | None:
    """Add an e-mail to the outbox (once per dedupe_key); its id, or None for an address
    we will not send to."""
    if not is_sendable_email(to):
        return None
    text, html = render(template, {"subject": subject, **context})
    table = MailOutbox.__table__
    inserted = session.execute(
        dialect_insert(session, table)
        .values(
            store_id=store_id,
            kind=kind,
            dedupe_key=dedupe_key,
            to_address=to,
            subject=subject,
            text_body=text,
            html_body=html,
            status="queued",
            attempts=0,
            next_attempt_at=datetime.now().astimezone(),
            created_at=datetime.now().astimezone(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    ).scalar()
    if inserted is not None:
        return int(inserted)
    existing = session.scalar(select(MailOutbox.id).where(MailOutbox.dedupe_key == dedupe_key))
    return int(existing) if existing is not None else None


def _store_name(session: Session, store_id: uuid.UUID) -> str:
    store = session.get(Store, store_id)
    return store.name if store else "ShopSmart"


def _summary_context(summary: dict[str, Any], currency: str) -> dict[str, Any]:
    def money(value: Any) -> str:
        return format_money(int(value), currency)

    slot = summary.get("delivery_slot")
    delivery = ""
    if slot:
        starts = datetime.fromisoformat(str(slot["starts_at"]))
        ends = datetime.fromisoformat(str(slot["ends_at"]))
        delivery = f"{starts:%a %d %b %Y, %H:%M}–{ends:%H:%M} ({starts:%Z})".replace(" ()", "")
    return {
        "receipt_no": summary.get("receipt_no", ""),
        "customer_name": summary.get("customer_name", ""),
        "lines": [
            {
                "name": line["name"],
                "quantity": format_quantity(int(line["quantity"]), line.get("sold_by", "each")),
                "unit_price": money(line["unit_price"]),
                "net": money(line["net"]),
            }
            for line in summary.get("lines", [])
        ],
        "subtotal": money(summary.get("subtotal", 0)),
        "discount_total": money(summary["discount_total"]) if summary.get("discount_total") else "",
        "tax": [
            {"label": t["label"], "taxable": money(t["taxable"]), "tax": money(t["tax"])}
            for t in summary.get("tax", [])
        ],
        "tax_total": money(summary.get("tax_total", 0)),
        "total": money(summary.get("total", 0)),
        "prices_include_tax": bool(summary.get("prices_include_tax", True)),
        "delivery": delivery,
    }


def _order_summary(session: Session, order: Order) -> dict[str, Any]:
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.store_id == order.store_id, OrderLine.order_id == order.id)
        .order_by(OrderLine.line_no)
    ).all()
    return {
        "receipt_no": order.receipt_no,
        "customer_name": (order.customer or {}).get("name", ""),
        "lines": [
            {
                "name": ln.name,
                "sold_by": ln.sold_by,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "net": ln.net,
            }
            for ln in lines
        ],
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "prices_include_tax": order.prices_include_tax,
        "tax": order.tax,
        "delivery_slot": None,
    }


def queue_order_confirmation(
    session: Session,
    *,
    store_id: uuid.UUID,
    order_id: uuid.UUID,
    to: str | None,
    currency: str,
    paid: int,
    summary: dict[str, Any] | None,
    payment_ref: str,
) -> int | None:
    """The order confirmation, once per order. ``summary`` (what the terminal sent with the
    payment) or else the order as pushed gives the lines; without either, the e-mail
    confirms the payment only."""
    if not to:
        return None
    if summary is None:
        order = session.get(Order, {"store_id": store_id, "id": order_id})
        if order is not None:
            summary = _order_summary(session, order)
    context = {
        "store_name": _store_name(session, store_id),
        "paid": format_money(paid, currency),
        "payment_ref": payment_ref,
        **_summary_context(summary or {}, currency),
    }
    receipt = f" {context['receipt_no']}" if context["receipt_no"] else ""
    return queue_mail(
        session,
        store_id=store_id,
        kind="order_confirmation",
        dedupe_key=f"order_confirmation:{store_id}:{order_id}",
        to=to,
        subject=f"Your order{receipt} at {context['store_name']}",
        template="order_confirmation",
        context=context,
    )


def queue_payment_confirmation(session: Session, payment: Payment) -> int | None:
    return queue_order_confirmation(
        session,
        store_id=payment.store_id,
        order_id=payment.order_id,
        to=payment.customer_email,
        currency=payment.currency,
        paid=payment.amount_received or payment.amount,
        summary=payment.order_summary,
        payment_ref=str(payment.id),
    )


def queue_payment_link(session: Session, payment: Payment, to: str, pay_url: str) -> int | None:
    store_name = _store_name(session, payment.store_id)
    amount = format_money(payment.amount, payment.currency)
    expires = payment.pay_token_expires_at
    return queue_mail(
        session,
        store_id=payment.store_id,
        kind="payment_link",
        dedupe_key=f"payment_link:{payment.store_id}:{payment.id}:{to.lower()}",
        to=to,
        subject=f"Please pay {amount} to {store_name}",
        template="payment_link",
        context={
            "store_name": store_name,
            "amount": amount,
            "pay_url": pay_url,
            "expires": f"{expires:%d %b %Y %H:%M} UTC",
            "receipt_no": (payment.order_summary or {}).get("receipt_no", ""),
        },
    )


def queue_refund_receipt(session: Session, payment: Payment, refund: PaymentRefund) -> int | None:
    if not payment.customer_email:
        return None
    return _queue_refund_mail(
        session,
        store_id=payment.store_id,
        refund_id=refund.id,
        to=payment.customer_email,
        currency=payment.currency,
        refunded=refund.amount,
        paid=payment.amount_received,
        refunded_total=payment.amount_refunded,
        reason=refund.reason,
        receipt_no=(payment.order_summary or {}).get("receipt_no", ""),
        refunded_to="to your card",
    )


def queue_order_refund_receipt(
    session: Session,
    *,
    store_id: uuid.UUID,
    refund_id: uuid.UUID,
    to: str,
    currency: str,
    refunded: int,
    card_amount: int,
    paid: int,
    refunded_total: int,
    reason: str,
    receipt_no: str,
) -> int | None:
    """The receipt of a refund made at a till (``order.refunded``), once per refund — the
    same dedupe key as the card part's receipt, so a card refund is receipted once."""
    if refunded == card_amount:
        refunded_to = "to your card"
    elif card_amount:
        refunded_to = (
            f"({format_money(card_amount, currency)} to your card, "
            f"{format_money(refunded - card_amount, currency)} in cash)"
        )
    else:
        refunded_to = "in cash"
    return _queue_refund_mail(
        session,
        store_id=store_id,
        refund_id=refund_id,
        to=to,
        currency=currency,
        refunded=refunded,
        paid=paid,
        refunded_total=refunded_total,
        reason=reason,
        receipt_no=receipt_no,
        refunded_to=refunded_to,
    )


def _queue_refund_mail(
    session: Session,
    *,
    store_id: uuid.UUID,
    refund_id: uuid.UUID,
    to: str,
    currency: str,
    refunded: int,
    paid: int,
    refunded_total: int,
    reason: str,
    receipt_no: str,
    refunded_to: str,
) -> int | None:
    store_name = _store_name(session, store_id)
    return queue_mail(
        session,
        store_id=store_id,
        kind="refund_receipt",
        dedupe_key=f"refund_receipt:{store_id}:{refund_id}",
        to=to,
        subject=f"Your refund from {store_name}",
        template="refund_receipt",
        context={
            "store_name": store_name,
            "refunded": format_money(refunded, currency),
            "refunded_to": refunded_to,
            "paid": format_money(paid, currency),
            "refunded_total": format_money(refunded_total, currency),
            "reason": reason,
            "receipt_no": receipt_no,
            "refund_ref": str(refund_id),
        },
    )
