"""Orders as the server holds them, and the flags raised on them."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from server.api import endpoint
from server.models import Flag, Order
from server.orders.service import order_data
from server.services import services
from server.terminals.auth import caller, get_owned
from sync.protocol import FlagData, FlagList, FlagsQuery, OrderData

bp = Blueprint("orders", __name__, url_prefix="/api/v1")


@bp.get("/orders/<order_id>")
@endpoint("One order of the caller's store", tag="orders", response=OrderData)
def get_order(order_id: str) -> OrderData:
    with services().sessions() as session:
        return order_data(session, get_owned(session, caller(), Order, order_id))


@bp.get("/flags")
@endpoint(
    "Flags of the caller's store (price mismatch, oversold, …), oldest first",
    tag="orders",
    query=FlagsQuery,
    response=FlagList,
)
def list_flags(query: FlagsQuery) -> FlagList:
    stmt = (
        select(Flag)
        .where(Flag.store_id == caller().store_id, Flag.id > query.after)
        .order_by(Flag.id)
        .limit(query.limit)
    )
    if query.kind:
        stmt = stmt.where(Flag.kind == query.kind)
    with services().sessions() as session:
        flags = [
            FlagData(
                id=f.id,
                kind=f.kind,
                order_id=str(f.order_id) if f.order_id else None,
                product_id=f.product_id,
                detail=f.detail,
                created_at=f.created_at,
            )
            for f in session.scalars(stmt)
        ]
    return FlagList(flags=flags, next_after=flags[-1].id if flags else query.after)
