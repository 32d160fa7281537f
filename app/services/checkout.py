"""Use cases at the counter: complete a sale, park and resume it (also when the till is
closed with the sale open), void a paid order."""

from __future__ import annotations

from dataclasses import replace

from app.domain.approval import Approval, ApprovalAction, approval_subject
from app.domain.audit import AuditAction, AuditEntry, void_detail
from app.domain.card import CardStatus
from app.domain.cart import (
    MAX_OPEN_PRICE,
    Cart,
    CartLine,
    OpenPriceNeedsApproval,
    check_open_price,
    open_price_needs_approval,
)
from app.domain.clerk import Clerk
from app.domain.errors import EmptyCart, InvalidInput, InvalidPrice, NotFound
from app.domain.events import OrderVoided, SaleCompleted
from app.domain.money import format_minor, format_money
from app.domain.order import (
    Order,
    OrderStatus,
    Tender,
    TenderInput,
    TenderKind,
    format_receipt_no,
    order_lines_from,
    settle_tenders,
)
from app.domain.shift import NoOpenShift
from app.domain.stock import sale_movements, void_movements
from app.domain.store import StoreProfile
from app.ports import Clock, IdFactory, UnitOfWork
from app.services.approvals import use_approval
from app.services.discounts import audit_approved_discounts, check_approvals


def current_shift_for_sale(uow: UnitOfWork) -> str | None:
    """The id of the shift a sale belongs to: the one open on the terminal. Once the till has
    had a shift, a sale with none open is refused (``NoOpenShift``); a till that never opened
    one sells without (docs/manager.md, "Shifts and cash")."""
    shift = uow.shifts.current()
    if shift is None and uow.shifts.in_use():
        raise NoOpenShift("open a shift (Shift → Open shift…) before selling", field="shift")
    return shift.id if shift else None


def receipt_sequence_name(terminal_code: str) -> str:
    return f"receipt:{terminal_code}"


def complete_sale(
    uow: UnitOfWork,
    cart: Cart,
    tenders: list[TenderInput],
    clerk: Clerk,
    store: StoreProfile,
    clock: Clock,
    ids: IdFactory,
    *,
    parked_sale_id: str | None = None,
) -> Order:
    """Take payment for a cart and make the sale durable.

    Order, lines, tenders, the stock it takes off the shelf, the audit entry of each
    discount a manager approved, the receipt number and the outbox event are written in ONE
    transaction: after commit() returns the sale survives a crash or power loss; before it,
    nothing of it exists (the receipt number is taken inside the same transaction, so a number
    is never issued twice and never skipped by a committed order). A discount above the
    store's threshold that no manager approved refuses the sale (``DiscountNeedsApproval``).
    """
    if cart.is_empty:
        raise EmptyCart("the sale has no items", field="lines")
    totals = cart.totals(store.taxes)
    settled = settle_tenders(totals.total, tenders, currency=store.currency, locale=store.locale)
    now = clock.now()
    with uow:
        check_approvals(uow, cart, store)
        check_open_prices(uow, cart, store)
        if cart.order_id:
            _refuse_live_card_attempts(uow, cart.order_id, settled, store)
        sequence = uow.sequences.next_value(receipt_sequence_name(store.terminal_code))
        order = Order(
            id=cart.order_id or ids.new_id(),
            receipt_no=format_receipt_no(store.terminal_code, sequence),
            terminal_code=store.terminal_code,
            sequence=sequence,
            clerk_id=clerk.id,
            clerk_name=clerk.name,
            currency=cart.currency,
            status=OrderStatus.OPEN,
            created_at=now,
            paid_at=None,
            lines=order_lines_from(totals, cart.lines),
            tenders=settled,
            tax=totals.tax,
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            prices_include_tax=store.taxes.prices_include_tax,
            shift_id=current_shift_for_sale(uow),
        )
        order = replace(order.with_status(OrderStatus.PAID), paid_at=now)
        uow.orders.add(order)
        uow.products.move_stock(sale_movements(order))
        audit_approved_discounts(uow, cart, order, clerk)
        _audit_approved_open_prices(uow, cart, order, clerk)
        uow.outbox.add(SaleCompleted(order, now))
        for tender in order.tenders:
            if tender.kind is TenderKind.CARD and tender.reference:
                uow.card_attempts.set_status(tender.reference, CardStatus.USED)
        if parked_sale_id:
            uow.parked.take(parked_sale_id)
        uow.commit()
    return order


def _open_price_explanation(unit_price: int, store: StoreProfile) -> str:
    typed = format_money(unit_price, store.currency, store.locale)
    limit = format_money(store.open_price_approval_limit, store.currency, store.locale)
    return f"An open price of {typed} is above the {limit} a clerk may type."


def open_price_needs_manager(unit_price: int, store: StoreProfile) -> str:
    """Why an open price needs a manager's PIN, or "" when a clerk may type it."""
    if open_price_needs_approval(unit_price, store.open_price_approval_limit):
        return _open_price_explanation(unit_price, store)
    return ""


def add_open_price_item(
    cart: Cart, department: str, unit_price: int, tax_class: str, store: StoreProfile
) -> Cart:
    """A clerk adds goods without a barcode at a typed price, within the store's limit
    (StoreProfile.open_price_approval_limit); above it a manager approves
    (``approve_open_price_item``)."""
    check_open_price(department, unit_price)
    store.taxes.rate_for(tax_class)  # an unknown tax class is refused here
    explanation = open_price_needs_manager(unit_price, store)
    if explanation:
        raise OpenPriceNeedsApproval(
            explanation + " A manager must approve it with their PIN.", field="price"
        )
    return cart.add_open_price(department, unit_price, tax_class)


def open_price_subject(department: str, unit_price: int) -> str:
    """What a manager approves for an open price above the limit."""
    return approval_subject(
        ApprovalAction.OPEN_PRICE, department=department.strip(), price=unit_price
    )


def approve_open_price_item(
    uow: UnitOfWork,
    cart: Cart,
    department: str,
    unit_price: int,
    tax_class: str,
    approval: Approval | None,
    store: StoreProfile,
    clock: Clock,
) -> Cart:
    """An open price above the limit, with a manager's approval of exactly it (this
    department, this price): the cart with the line, marked with the approver (audited again
    when the sale completes). Without an approval ``ApprovalNeeded`` names what to approve;
    within the limit the item is just added."""
    check_open_price(department, unit_price)
    store.taxes.rate_for(tax_class)
    explanation = open_price_needs_manager(unit_price, store)
    if not explanation:
        return add_open_price_item(cart, department, unit_price, tax_class, store)
    with uow:
        used = use_approval(
            uow,
            clock,
            approval,
            ApprovalAction.OPEN_PRICE,
            open_price_subject(department, unit_price),
            explanation,
            amount=unit_price,
        )
        manager = uow.clerks.get(used.approved_by)
        assert manager is not None  # use_approval checked it is an active manager
        uow.commit()
    return cart.add_open_price(
        department, unit_price, tax_class, approver_id=manager.id, approver_name=manager.name
    )


def price_override_subject(cart: Cart, line_id: int, unit_price: int) -> str:
    """What a manager approves to change line ``line_id``'s price to ``unit_price``."""
    line = cart.line(line_id)
    return approval_subject(
        ApprovalAction.PRICE_OVERRIDE,
        line=line_id,
        item=line.sku or line.name,
        price=unit_price,
        was=line.unit_price,
    )


def override_price(
    uow: UnitOfWork,
    cart: Cart,
    line_id: int,
    unit_price: int,
    reason: str,
    clerk: Clerk,
    clock: Clock,
    *,
    approval: Approval | None = None,
) -> Cart:
    """A line's price changed (the shelf label was lower, damaged goods): always with a
    manager's approval of exactly this line and price (``ApprovalNeeded`` without one). The
    approval and a PRICE_OVERRIDDEN entry (old and new price, who asked, who approved) are
    written now; the line keeps its approver, which ``complete_sale`` checks again."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a price override needs a reason", field="reason")
    line = cart.line(line_id)
    if line.is_open_price:
        raise InvalidInput("an open-price item's price is typed when it is added", field="price")
    if isinstance(unit_price, bool) or not isinstance(unit_price, int) or unit_price < 0:
        raise InvalidPrice("a price is 0 or more, in minor units", field="price")
    if unit_price > MAX_OPEN_PRICE:
        raise InvalidPrice(f"a price of {unit_price} is more than one item may cost", field="price")
    if unit_price == line.unit_price:
        raise InvalidInput(
            f"{line.name} already costs {format_minor(unit_price, cart.currency)}", field="price"
        )
    subject = price_override_subject(cart, line_id, unit_price)
    now = clock.now()
    with uow:
        used = use_approval(
            uow,
            clock,
            approval,
            ApprovalAction.PRICE_OVERRIDE,
            subject,
            f"changing the price of {line.name} from "
            f"{format_minor(line.unit_price, cart.currency)} to "
            f"{format_minor(unit_price, cart.currency)}",
            amount=unit_price,
        )
        manager = uow.clerks.get(used.approved_by)
        assert manager is not None  # use_approval checked it is an active manager
        uow.audit.add(
            AuditEntry(
                now,
                manager.id,
                manager.name,
                AuditAction.PRICE_OVERRIDDEN,
                reason[:500],
                unit_price,
                f"{line.name}: {format_minor(line.unit_price, cart.currency)} → "
                f"{format_minor(unit_price, cart.currency)}, "
                f"asked by {clerk.name}",
            )
        )
        uow.commit()
    return cart.with_price(line_id, unit_price, approver_id=manager.id, approver_name=manager.name)


def check_open_prices(uow: UnitOfWork, cart: Cart, store: StoreProfile) -> None:
    """Refuse a sale with an open price above the store's limit that no manager approved,
    or approved by someone who is not (or no longer) an active manager of this till."""
    for line in cart.lines:
        if not line.is_open_price:
            if line.approver_id:  # a price a manager overrode
                _check_price_approver(uow, line.approver_id)
            continue
        check_open_price(line.name, line.unit_price)
        if not open_price_needs_approval(line.unit_price, store.open_price_approval_limit):
            continue
        if not line.approver_id:
            raise OpenPriceNeedsApproval(
                f"{_open_price_explanation(line.unit_price, store)} {line.name} needs a "
                "manager's approval",
                field="price",
            )
        approver = uow.clerks.get(line.approver_id)
        if approver is None or not approver.active or not approver.is_manager:
            name = approver.name if approver else "an unknown clerk"
            raise OpenPriceNeedsApproval(
                f"{name} may not approve open prices: ask a manager to approve it again",
                field="price",
            )


def _check_price_approver(uow: UnitOfWork, approver_id: str) -> None:
    approver = uow.clerks.get(approver_id)
    if approver is None or not approver.active or not approver.is_manager:
        name = approver.name if approver else "an unknown clerk"
        raise InvalidPrice(
            f"{name} may not override prices: ask a manager to approve it again", field="price"
        )


def _audit_approved_open_prices(uow: UnitOfWork, cart: Cart, order: Order, asked_by: Clerk) -> None:
    """One OPEN_PRICE_APPROVED entry per open price a manager approved (in the sale's
    transaction): the manager, who asked, what and its price."""
    for line in cart.lines:
        if line.is_open_price and line.approver_id:
            uow.audit.add(
                AuditEntry(
                    order.paid_at or order.created_at,
                    line.approver_id,
                    line.approver_name,
                    AuditAction.OPEN_PRICE_APPROVED,
                    f"open price, asked by {asked_by.name}",
                    line.unit_price,
                    f"{order.receipt_no}: {line.name} at "
                    f"{format_minor(line.unit_price, order.currency)}",
                )
            )


def _refuse_live_card_attempts(
    uow: UnitOfWork, order_id: str, tenders: tuple[Tender, ...], store: StoreProfile
) -> None:
    """A card attempt of this sale that is still open (the customer could still pay it) or
    that succeeded must be among the tenders: otherwise the customer might pay twice."""
    used = {t.reference for t in tenders if t.kind is TenderKind.CARD and t.reference}
    for attempt in uow.card_attempts.for_order(order_id):
        if attempt.payment_id in used:
            continue
        amount = format_minor(attempt.amount, store.currency, store.locale)
        if attempt.status.is_open:
            raise InvalidInput(
                f"a card payment of {amount} for this sale is still "
                "open: cancel it before completing the sale another way",
                field="tenders",
            )
        if attempt.status is CardStatus.SUCCEEDED:
            raise InvalidInput(
                f"the customer already paid {amount} by card for this "
                "sale: use that card payment as a tender",
                field="tenders",
            )


def park_sale(
    uow: UnitOfWork, cart: Cart, clerk: Clerk, label: str, clock: Clock, ids: IdFactory
) -> str:
    """Put a sale aside (the customer forgot something); it survives restarts."""
    if cart.is_empty:
        raise EmptyCart("there is nothing to park", field="lines")
    sale_id = ids.new_id()
    with uow:
        uow.parked.park(sale_id, cart, clerk.id, label.strip() or "Parked sale", clock.now())
        uow.commit()
    return sale_id


PARKED_ON_CLOSE_REASON = "the till was closed with the sale open"


def park_sale_on_close(
    uow: UnitOfWork,
    cart: Cart,
    clerk: Clerk,
    label: str,
    store: StoreProfile,
    clock: Clock,
    ids: IdFactory,
) -> str:
    """The till is closed (Ctrl+Q, the window's close button) with a sale open: the sale is
    parked, not lost, with everything on it (a manager-approved discount keeps its approver),
    and the audit records it in the same transaction, so a manager sees what was left open."""
    if cart.is_empty:
        raise EmptyCart("there is nothing to park", field="lines")
    sale_id = ids.new_id()
    now = clock.now()
    label = label.strip() or "Parked sale"
    total = cart.totals(store.taxes).total
    detail = f"{label}: " + ", ".join(_describe_line(line) for line in cart.lines)
    with uow:
        uow.parked.park(sale_id, cart, clerk.id, label, now)
        uow.audit.add(
            AuditEntry(
                now,
                clerk.id,
                clerk.name,
                AuditAction.SALE_PARKED_ON_CLOSE,
                PARKED_ON_CLOSE_REASON,
                total,
                detail[:500],
            )
        )
        uow.commit()
    return sale_id


def resume_sale(uow: UnitOfWork, sale_id: str) -> Cart:
    with uow:
        cart = uow.parked.take(sale_id)
        if cart is None:
            raise NotFound("that parked sale no longer exists", field="sale_id")
        uow.commit()
    return cart


def void_order(
    uow: UnitOfWork,
    order_id: str,
    reason: str,
    clerk: Clerk,
    clock: Clock,
    ids: IdFactory,
    *,
    approval: Approval | None = None,
) -> Order:
    """Void a paid order: a manager's approval for exactly this void (``ApprovalNeeded``
    without one); the void travels to the server as its own event, with the approving
    manager."""
    if not reason.strip():
        raise InvalidInput("a void needs a reason", field="reason")
    now = clock.now()
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}", field="order_id")
        if order.refunded_total:
            raise InvalidInput(
                f"order {order.receipt_no} was partly refunded; refund the rest instead of "
                "voiding it",
                field="order_id",
            )
        voided = order.with_status(OrderStatus.VOIDED)
        used = use_approval(
            uow,
            clock,
            approval,
            ApprovalAction.VOID_AFTER_PAYMENT,
            void_subject(order.id),
            f"voiding paid sale {order.receipt_no}",
            amount=order.total,
        )
        manager = uow.clerks.get(used.approved_by)
        assert manager is not None  # use_approval checked it is an active manager
        uow.orders.set_status(voided.id, voided.status)
        uow.products.move_stock(void_movements(order))  # the sale's goods are back on the shelf
        uow.audit.add(
            AuditEntry(
                now,
                manager.id,
                manager.name,
                AuditAction.ORDER_VOIDED,
                reason.strip(),
                order.total,
                void_detail(order.receipt_no, None if clerk.id == manager.id else clerk.name),
            )
        )
        uow.outbox.add(OrderVoided(ids.new_id(), order.id, reason.strip(), now, manager.id))
        uow.commit()
    return voided


def void_subject(order_id: str) -> str:
    """What a manager approves to void order ``order_id``."""
    return approval_subject(ApprovalAction.VOID_AFTER_PAYMENT, order=order_id)


def stale_lines(uow: UnitOfWork, cart: Cart) -> list[tuple[int, str]]:
    """Lines of a (resumed) cart whose product was deleted, deactivated or repriced since.

    Returns (line id, what changed) for the clerk to decide; the cart itself is not changed.
    """
    problems: list[tuple[int, str]] = []
    with uow:
        for line in cart.lines:
            product = uow.products.by_id(line.product_id)
            if product is None or not product.active:
                problems.append((line.line_id, f"{line.name} is no longer sold"))
            elif product.unit_price != line.unit_price:
                problems.append(
                    (
                        line.line_id,
                        f"{line.name} now costs {format_minor(product.unit_price, cart.currency)}",
                    )
                )
    return problems


def _describe_line(line: CartLine) -> str:
    if line.sold_by.value == "weight":
        return f"{line.quantity} g {line.name}"
    return f"{line.quantity} × {line.name}"


def remove_line(
    uow: UnitOfWork, cart: Cart, line_id: int, reason: str, clerk: Clerk, clock: Clock
) -> Cart:
    """Take a line off the sale, with a reason a manager can read later."""
    if not reason.strip():
        raise InvalidInput("removing a line needs a reason", field="reason")
    line = cart.line(line_id)
    new_cart = cart.remove(line_id)
    with uow:
        uow.audit.add(
            AuditEntry(
                clock.now(),
                clerk.id,
                clerk.name,
                AuditAction.LINE_REMOVED,
                reason.strip(),
                line.gross,
                _describe_line(line),
            )
        )
        uow.commit()
    return new_cart


def cancel_sale(
    uow: UnitOfWork, cart: Cart, reason: str, clerk: Clerk, store: StoreProfile, clock: Clock
) -> Cart:
    """Abandon a sale before payment; the audit keeps what it held and why."""
    if not reason.strip():
        raise InvalidInput("cancelling a sale needs a reason", field="reason")
    if cart.is_empty:
        raise EmptyCart("there is no sale to cancel", field="lines")
    total = cart.totals(store.taxes).total
    detail = ", ".join(_describe_line(line) for line in cart.lines)
    with uow:
        for attempt in uow.card_attempts.for_order(cart.order_id) if cart.order_id else []:
            if attempt.status.is_open or attempt.status is CardStatus.SUCCEEDED:
                raise InvalidInput(
                    "a card payment for this sale is still open or was paid: wait for it, "
                    "or complete the sale",
                    field="tenders",
                )
            if attempt.status is CardStatus.FAILED:
                uow.card_attempts.set_status(attempt.payment_id, CardStatus.ABANDONED)
        uow.audit.add(
            AuditEntry(
                clock.now(),
                clerk.id,
                clerk.name,
                AuditAction.SALE_CANCELLED,
                reason.strip(),
                total,
                detail[:500],
            )
        )
        uow.commit()
    return Cart(currency=cart.currency)
