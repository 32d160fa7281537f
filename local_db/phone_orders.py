"""The till's phone-order data (issue 13): customers with their addresses, delivery slots
with this till's allotments and own bookings, phone orders with their ordered and picked
lines. Tables of migration 0011 (customers and delivery_slots are in local_db.models) and
their repositories, each working on one connection (one transaction).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from app.domain.delivery import (
    Address,
    BookingStatus,
    CapacityUnit,
    Customer,
    FulfilmentState,
    PaymentMethod,
    PhoneOrder,
    PhoneOrderLine,
    PickedLine,
    PickStatus,
    Slot,
    SlotStanding,
    Substitution,
    phone_line_fields,
    picked_line_fields,
)
from app.domain.order import SyncState
from app.domain.product import SoldBy
from app.domain.timestamps import optional_utc_iso, utc_iso
from local_db.codec import from_iso
from local_db.models import CUSTOMERS, SLOTS, metadata
from local_db.repositories import prefix_upper_bound, upsert

CUSTOMER_ADDRESSES = Table(
    "customer_addresses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "customer_id",
        String(36),
        ForeignKey("customers.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("label", String(100), nullable=False),
    Column("line1", String(200), nullable=False),
    Column("line2", String(200), nullable=False),
    Column("postcode", String(32), nullable=False),
    Column("city", String(100), nullable=False),
    Column("country", String(2), nullable=False),
    Column("notes", Text, nullable=False),
)

# This till's share of each slot, as last pulled (other tills' shares are not sent to it).
SLOT_ALLOTMENTS = Table(
    "slot_allotments",
    metadata,
    Column("slot_id", String(36), primary_key=True),
    Column("allotted_total", Integer, nullable=False),
    Column("used", Integer, nullable=False),
)

# The bookings this till made (firm within its allotment, provisional past it).
SLOT_BOOKINGS = Table(
    "slot_bookings",
    metadata,
    Column("booking_id", String(36), primary_key=True),
    Column("slot_id", String(36), index=True, nullable=False),
    Column("order_id", String(36), nullable=False),
    Column("units", Integer, nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("booked_at", String(40), nullable=False),
)

PHONE_ORDERS = Table(
    "phone_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_no", String(64), nullable=False),
    Column("terminal_code", String(20), nullable=False),
    Column("clerk_id", String(36), nullable=False),
    Column("clerk_name", String(60), nullable=False),
    Column("customer_id", String(36), nullable=False),
    Column("customer", Text, nullable=False),  # JSON snapshot: id, name, phone, email, notes
    Column("address", Text, nullable=False),  # JSON snapshot of the delivery address
    Column("note", Text, nullable=False),
    Column("slot_id", String(36), index=True, nullable=False),
    Column("slot_starts_at", String(40), nullable=False),
    Column("slot_ends_at", String(40), nullable=False),
    Column("booking_id", String(36), nullable=False),
    Column("booking_status", String(16), nullable=False),
    Column("moved_from_slot_id", String(36), nullable=False),
    Column("moved_from_starts_at", String(40), nullable=False),
    Column("state", String(20), index=True, nullable=False),
    Column("version", Integer, nullable=False),
    Column("cancel_reason", Text, nullable=False),
    Column("payment_method", String(16), nullable=False),
    Column("payment_status", String(20), nullable=False),
    Column("authorised_amount", Integer, nullable=False),
    Column("captured_amount", Integer, nullable=False),
    Column("estimated_total", Integer, nullable=False),
    Column("actual_total", Integer, nullable=False),
    Column("shortfall", Integer, nullable=False),
    Column("pay_url", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("sync_state", String(16), nullable=False),  # this till's last event about it
    Column("sync_error", Text, nullable=False),  # the server's reason when it refused it
    Column("customer_told", Boolean, nullable=False),
)

PHONE_ORDER_LINES = Table(
    "phone_order_lines",
    metadata,
    Column(
        "order_id", String(36), ForeignKey("phone_orders.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sold_by", String(8), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("tax_class", String(32), nullable=False),
    Column("tax_rate_bp", Integer, nullable=False),
    Column("net", Integer, nullable=False),
    Column("substitution", String(16), nullable=False),
    Column("substitute_product_id", String(36), nullable=False),
    Column("note", Text, nullable=False),
)

PHONE_ORDER_PICKED_LINES = Table(
    "phone_order_picked_lines",
    metadata,
    Column(
        "order_id", String(36), ForeignKey("phone_orders.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("line_no", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("product_id", String(36), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sold_by", String(8), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("tax_class", String(32), nullable=False),
    Column("tax_rate_bp", Integer, nullable=False),
    Column("net", Integer, nullable=False),
)

# --------------------------------------------------------------------------- rows ↔ domain


def name_key(name: str) -> str:
    """How a customer's name is searched: spaces single, case folded."""
    return " ".join(name.split()).casefold()


def address_values(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "label": address.label,
        "line1": address.line1,
        "line2": address.line2,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
        "notes": address.notes,
    }


def address_from(values: Any) -> Address:
    get = values.get if isinstance(values, dict) else values._mapping.get
    return Address(
        id=str(get("id")),
        label=str(get("label") or ""),
        line1=str(get("line1") or ""),
        line2=str(get("line2") or ""),
        postcode=str(get("postcode") or ""),
        city=str(get("city") or ""),
        country=str(get("country") or ""),
        notes=str(get("notes") or ""),
    )


def slot_from_row(row: Any) -> Slot:
    starts_at = from_iso(row.starts_at)
    ends_at = from_iso(row.ends_at)
    assert starts_at is not None and ends_at is not None
    return Slot(
        id=row.id,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=row.capacity,
        unit=CapacityUnit(row.unit),
        max_weight_g=row.max_weight_g,
        cutoff_minutes=row.cutoff_minutes,
        lead_time_minutes=row.lead_time_minutes,
        postcode_prefixes=tuple(json.loads(row.postcode_prefixes or "[]")),
        booked=row.booked,
        active=bool(row.active),
    )


def slot_free(row: Any) -> int:
    """The free places of a slot row: the server's figure, else capacity − booked."""
    free = row.free if row.free is not None else row.capacity - row.booked
    return max(0, int(free))


def phone_order_values(order: PhoneOrder) -> dict[str, Any]:
    customer = order.customer
    return {
        "id": order.id,
        "order_no": order.order_no,
        "terminal_code": order.terminal_code,
        "clerk_id": order.clerk_id,
        "clerk_name": order.clerk_name,
        "customer_id": customer.id,
        "customer": json.dumps(
            {
                "id": customer.id,
                "name": customer.name,
                "phone": customer.phone,
                "email": customer.email,
                "notes": customer.notes,
            }
        ),
        "address": json.dumps(address_values(order.address)),
        "note": order.note,
        "slot_id": order.slot_id,
        "slot_starts_at": optional_utc_iso(order.slot_starts_at) or "",
        "slot_ends_at": optional_utc_iso(order.slot_ends_at) or "",
        "booking_id": order.booking_id,
        "booking_status": order.booking_status.value,
        "moved_from_slot_id": order.moved_from_slot_id,
        "moved_from_starts_at": optional_utc_iso(order.moved_from_starts_at) or "",
        "state": order.state.value,
        "version": order.version,
        "cancel_reason": order.cancel_reason,
        "payment_method": order.payment_method.value,
        "payment_status": order.payment_status,
        "authorised_amount": order.authorised_amount,
        "captured_amount": order.captured_amount,
        "estimated_total": order.estimated_total,
        "actual_total": order.actual_total,
        "shortfall": order.shortfall,
        "pay_url": order.pay_url,
        "currency": order.currency,
        "created_at": utc_iso(order.created_at),
        "updated_at": utc_iso(order.updated_at),
        "sync_state": order.sync_state.value,
        "sync_error": order.sync_error,
        "customer_told": order.customer_told,
    }


def line_values(order_id: str, line: PhoneOrderLine) -> dict[str, Any]:
    return {"order_id": order_id, **phone_line_fields(line)}


def picked_values(order_id: str, line: PickedLine) -> dict[str, Any]:
    return {"order_id": order_id, **picked_line_fields(line)}


def _line_from(row: Any) -> PhoneOrderLine:
    return PhoneOrderLine(
        line_no=row.line_no,
        product_id=row.product_id,
        sku=row.sku,
        name=row.name,
        sold_by=SoldBy(row.sold_by),
        quantity=row.quantity,
        unit_price=row.unit_price,
        tax_class=row.tax_class,
        tax_rate_bp=row.tax_rate_bp,
        net=row.net,
        substitution=Substitution(row.substitution),
        substitute_product_id=row.substitute_product_id,
        note=row.note,
    )


def _picked_from(row: Any) -> PickedLine:
    return PickedLine(
        line_no=row.line_no,
        status=PickStatus(row.status),
        product_id=row.product_id,
        sku=row.sku,
        name=row.name,
        sold_by=SoldBy(row.sold_by),
        quantity=row.quantity,
        unit_price=row.unit_price,
        tax_class=row.tax_class,
        tax_rate_bp=row.tax_rate_bp,
        net=row.net,
    )


def _order_from(row: Any, lines: list[Any], picked: list[Any]) -> PhoneOrder:
    snapshot = json.loads(row.customer)
    address = address_from(json.loads(row.address))
    created_at = from_iso(row.created_at)
    updated_at = from_iso(row.updated_at)
    assert created_at is not None and updated_at is not None
    customer = Customer(
        id=snapshot["id"],
        name=snapshot["name"],
        phone=snapshot.get("phone", ""),
        email=snapshot.get("email", ""),
        addresses=(address,),
        notes=snapshot.get("notes", ""),
        updated_at=created_at,
    )
    return PhoneOrder(
        id=row.id,
        order_no=row.order_no,
        terminal_code=row.terminal_code,
        clerk_id=row.clerk_id,
        clerk_name=row.clerk_name,
        customer=customer,
        address=address,
        lines=tuple(_line_from(line) for line in lines),
        picked=tuple(_picked_from(line) for line in picked),
        note=row.note,
        slot_id=row.slot_id,
        booking_id=row.booking_id,
        booking_status=BookingStatus(row.booking_status),
        moved_from_slot_id=row.moved_from_slot_id,
        state=FulfilmentState(row.state),
        version=row.version,
        payment_method=PaymentMethod(row.payment_method),
        payment_status=row.payment_status,
        authorised_amount=row.authorised_amount,
        captured_amount=row.captured_amount,
        estimated_total=row.estimated_total,
        actual_total=row.actual_total,
        currency=row.currency,
        created_at=created_at,
        updated_at=updated_at,
        sync_state=SyncState(row.sync_state),
        sync_error=row.sync_error,
        customer_told=bool(row.customer_told),
        slot_starts_at=from_iso(row.slot_starts_at),
        slot_ends_at=from_iso(row.slot_ends_at),
        moved_from_starts_at=from_iso(row.moved_from_starts_at),
        shortfall=row.shortfall,
        pay_url=row.pay_url,
        cancel_reason=row.cancel_reason,
    )


def write_phone_order(c: Connection, order: PhoneOrder) -> None:
    """The order with its lines and picked lines, written over any earlier version."""
    upsert(c, PHONE_ORDERS, phone_order_values(order))
    c.execute(delete(PHONE_ORDER_LINES).where(PHONE_ORDER_LINES.c.order_id == order.id))
    if order.lines:
        c.execute(insert(PHONE_ORDER_LINES), [line_values(order.id, ln) for ln in order.lines])
    write_picked(c, order.id, order.picked)


def write_picked(c: Connection, order_id: str, picked: Sequence[PickedLine]) -> None:
    c.execute(
        delete(PHONE_ORDER_PICKED_LINES).where(PHONE_ORDER_PICKED_LINES.c.order_id == order_id)
    )
    if picked:
        c.execute(insert(PHONE_ORDER_PICKED_LINES), [picked_values(order_id, ln) for ln in picked])


def write_customer(c: Connection, customer: Customer, *, deleted: bool = False) -> None:
    """The customer and its addresses (in the given order), replacing the earlier ones."""
    upsert(
        c,
        CUSTOMERS,
        {
            "id": customer.id,
            "name": customer.name,
            "name_key": name_key(customer.name),
            "phone": customer.phone,
            "email": customer.email,
            "notes": customer.notes,
            "updated_at": utc_iso(customer.updated_at),
            "deleted": deleted,
        },
    )
    c.execute(delete(CUSTOMER_ADDRESSES).where(CUSTOMER_ADDRESSES.c.customer_id == customer.id))
    if customer.addresses:
        c.execute(
            insert(CUSTOMER_ADDRESSES),
            [
                {**address_values(a), "customer_id": customer.id, "position": i}
                for i, a in enumerate(customer.addresses)
            ],
        )


# --------------------------------------------------------------------------- repositories

# Customer look-ups run as prepared SQL on the DB-API connection (the phone search is on the
# phone-order screen's keystroke path).
_CUSTOMER_COLUMNS = "SELECT id, name, phone, email, notes, updated_at FROM customers"
_CUSTOMER_BY_ID = f"{_CUSTOMER_COLUMNS} WHERE id = ? AND NOT deleted"
CUSTOMERS_BY_PHONE = (
    f"{_CUSTOMER_COLUMNS} WHERE phone >= ? AND phone < ? AND NOT deleted ORDER BY phone LIMIT ?"
)
_CUSTOMERS_BY_NAME = (
    f"{_CUSTOMER_COLUMNS} WHERE name_key >= ? AND name_key < ? AND NOT deleted "
    "ORDER BY name_key LIMIT ?"
)
_CUSTOMERS_BY_WORD = (
    f"{_CUSTOMER_COLUMNS} WHERE name_key LIKE ? ESCAPE '\\' AND NOT deleted "
    "ORDER BY name_key LIMIT ?"
)
_ADDRESSES_OF = (
    "SELECT id, customer_id, label, line1, line2, postcode, city, country, notes "
    "FROM customer_addresses WHERE customer_id IN (SELECT value FROM json_each(?)) "
    "ORDER BY customer_id, position"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _dbapi(connection: Connection) -> Any:
    """The sqlite3 connection under ``connection``, inside its open transaction."""
    return connection.connection.driver_connection


class SqliteCustomerRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _with_addresses(self, rows: Sequence[Any]) -> list[Customer]:
        """Customers of ``rows`` (id, name, phone, email, notes, updated_at), with their
        addresses read in one statement."""
        if not rows:
            return []
        by_customer: dict[str, list[Address]] = {}
        for a in _dbapi(self._c).execute(_ADDRESSES_OF, (json.dumps([row[0] for row in rows]),)):
            by_customer.setdefault(a[1], []).append(
                Address(a[0], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
            )
        return [
            Customer(
                id=row[0],
                name=row[1],
                phone=row[2],
                email=row[3],
                addresses=tuple(by_customer.get(row[0], ())),
                notes=row[4],
                updated_at=from_iso(row[5]) or _EPOCH,
            )
            for row in rows
        ]

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Customer]:
        return self._with_addresses(_dbapi(self._c).execute(sql, params).fetchall())

    def get(self, customer_id: str) -> Customer | None:
        found = self._select(_CUSTOMER_BY_ID, (customer_id,))
        return found[0] if found else None

    def by_phone_prefix(self, prefix: str, limit: int = 20) -> list[Customer]:
        """Customers whose E.164 number starts with ``prefix``: one range of the phone
        index and one read of their addresses (well under 5 ms among 100,000 customers)."""
        if not prefix:
            return []
        return self._select(CUSTOMERS_BY_PHONE, (prefix, prefix_upper_bound(prefix), limit))

    def by_name(self, text: str, limit: int = 20) -> list[Customer]:
        """Customers whose name starts with ``text`` (a range of the name index), then those
        with a later word starting with it, case and spacing not counting."""
        key = name_key(text)
        if not key:
            return []
        found = self._select(_CUSTOMERS_BY_NAME, (key, prefix_upper_bound(key), limit))
        if len(found) < limit:
            escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            seen = {customer.id for customer in found}
            found.extend(
                customer
                for customer in self._select(_CUSTOMERS_BY_WORD, (f"% {escaped}%", limit))
                if customer.id not in seen
            )
        return found[:limit]

    def save(self, customer: Customer) -> None:
        write_customer(self._c, customer)

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(CUSTOMERS)).scalar_one())


class SqliteSlotRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, slot_id: str) -> Slot | None:
        row = self._c.execute(select(SLOTS).where(SLOTS.c.id == slot_id)).first()
        return slot_from_row(row) if row else None

    def _standings(self, rows: Sequence[Any]) -> list[SlotStanding]:
        ids = [row.id for row in rows]
        if not ids:
            return []
        allotted = {
            r.slot_id: r.allotted_total
            for r in self._c.execute(
                select(SLOT_ALLOTMENTS).where(SLOT_ALLOTMENTS.c.slot_id.in_(ids))
            )
        }
        firm = {
            r.slot_id: int(r.units)
            for r in self._c.execute(
                select(SLOT_BOOKINGS.c.slot_id, func.sum(SLOT_BOOKINGS.c.units).label("units"))
                .where(
                    SLOT_BOOKINGS.c.slot_id.in_(ids),
                    SLOT_BOOKINGS.c.status == BookingStatus.FIRM.value,
                    # a cancelled order's places go back to this till's allotment (the
                    # server releases them when the cancel reaches it, which comes first)
                    SLOT_BOOKINGS.c.order_id.not_in(
                        select(PHONE_ORDERS.c.id).where(
                            PHONE_ORDERS.c.state == FulfilmentState.CANCELLED.value
                        )
                    ),
                )
                .group_by(SLOT_BOOKINGS.c.slot_id)
            )
        }
        return [
            SlotStanding(
                slot_from_row(row), slot_free(row), allotted.get(row.id, 0), firm.get(row.id, 0)
            )
            for row in rows
        ]

    def standing(self, slot_id: str) -> SlotStanding | None:
        rows = self._c.execute(select(SLOTS).where(SLOTS.c.id == slot_id)).all()
        found = self._standings(rows)
        return found[0] if found else None

    def upcoming(self, start: datetime, end: datetime) -> list[SlotStanding]:
        """Active slots starting in [start, end), soonest first, with this till's standing."""
        rows = self._c.execute(
            select(SLOTS)
            .where(
                SLOTS.c.starts_at >= utc_iso(start),
                SLOTS.c.starts_at < utc_iso(end),
                SLOTS.c.active.is_(True),
            )
            .order_by(SLOTS.c.starts_at)
        ).all()
        return self._standings(rows)

    def add_booking(
        self,
        booking_id: str,
        slot_id: str,
        order_id: str,
        units: int,
        weight_g: int,
        status: BookingStatus,
        booked_at: datetime,
    ) -> None:
        """Book ``units`` of the slot for this till; a provisional booking takes its places
        off the free count shown until the server's next word."""
        self._c.execute(
            insert(SLOT_BOOKINGS).values(
                booking_id=booking_id,
                slot_id=slot_id,
                order_id=order_id,
                units=units,
                weight_g=weight_g,
                status=status.value,
                booked_at=utc_iso(booked_at),
            )
        )
        if status is BookingStatus.PROVISIONAL:
            self._c.execute(
                update(SLOTS)
                .where(SLOTS.c.id == slot_id)
                .values(
                    free=func.max(
                        0, func.coalesce(SLOTS.c.free, SLOTS.c.capacity - SLOTS.c.booked) - units
                    )
                )
            )


class SqlitePhoneOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _load(self, rows: Sequence[Any]) -> list[PhoneOrder]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        lines: dict[str, list[Any]] = {}
        for line in self._c.execute(
            select(PHONE_ORDER_LINES)
            .where(PHONE_ORDER_LINES.c.order_id.in_(ids))
            .order_by(PHONE_ORDER_LINES.c.order_id, PHONE_ORDER_LINES.c.line_no)
        ):
            lines.setdefault(line.order_id, []).append(line)
        picked: dict[str, list[Any]] = {}
        for line in self._c.execute(
            select(PHONE_ORDER_PICKED_LINES)
            .where(PHONE_ORDER_PICKED_LINES.c.order_id.in_(ids))
            .order_by(PHONE_ORDER_PICKED_LINES.c.order_id, PHONE_ORDER_PICKED_LINES.c.line_no)
        ):
            picked.setdefault(line.order_id, []).append(line)
        return [_order_from(row, lines.get(row.id, []), picked.get(row.id, [])) for row in rows]

    def add(self, order: PhoneOrder) -> None:
        self._c.execute(insert(PHONE_ORDERS).values(phone_order_values(order)))
        self._c.execute(
            insert(PHONE_ORDER_LINES), [line_values(order.id, ln) for ln in order.lines]
        )

    def save(self, order: PhoneOrder) -> None:
        """The order's header and picked lines as given (its ordered lines never change)."""
        values = phone_order_values(order)
        self._c.execute(update(PHONE_ORDERS).where(PHONE_ORDERS.c.id == order.id).values(values))
        write_picked(self._c, order.id, order.picked)

    def get(self, order_id: str) -> PhoneOrder | None:
        found = self._load(
            self._c.execute(select(PHONE_ORDERS).where(PHONE_ORDERS.c.id == order_id)).all()
        )
        return found[0] if found else None

    def queue(
        self,
        states: Sequence[FulfilmentState] | None = None,
        slot_id: str | None = None,
        limit: int = 500,
    ) -> list[PhoneOrder]:
        """Orders by slot start, then order number."""
        query = select(PHONE_ORDERS)
        if states is not None:
            query = query.where(PHONE_ORDERS.c.state.in_([s.value for s in states]))
        if slot_id is not None:
            query = query.where(PHONE_ORDERS.c.slot_id == slot_id)
        query = query.order_by(
            PHONE_ORDERS.c.slot_starts_at, PHONE_ORDERS.c.order_no, PHONE_ORDERS.c.id
        ).limit(limit)
        return self._load(self._c.execute(query).all())

    def to_reconcile(self) -> list[PhoneOrder]:
        """Moved or unplaced bookings the customer has not been told about yet."""
        rows = self._c.execute(
            select(PHONE_ORDERS)
            .where(
                PHONE_ORDERS.c.booking_status.in_(
                    [BookingStatus.MOVED.value, BookingStatus.UNPLACED.value]
                ),
                PHONE_ORDERS.c.customer_told.is_(False),
                PHONE_ORDERS.c.state != FulfilmentState.CANCELLED.value,
            )
            .order_by(PHONE_ORDERS.c.slot_starts_at, PHONE_ORDERS.c.order_no)
        ).all()
        return self._load(rows)

    def mark_told(self, order_id: str) -> None:
        self._c.execute(
            update(PHONE_ORDERS).where(PHONE_ORDERS.c.id == order_id).values(customer_told=True)
        )

    def pending_count(self) -> int:
        return int(
            self._c.execute(
                select(func.count())
                .select_from(PHONE_ORDERS)
                .where(
                    PHONE_ORDERS.c.sync_state.in_([SyncState.QUEUED.value, SyncState.SENT.value])
                )
            ).scalar_one()
        )
