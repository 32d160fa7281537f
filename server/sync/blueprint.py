"""POST /api/v1/sync/push (events up) and GET /api/v1/sync/pull (changes down)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from server.api import endpoint, may_hold_nul
from server.db import in_transaction
from server.delivery.allotments import refresh_allotments
from server.errors import InvalidBody, TooLarge
from server.services import services
from server.sync.changes import parse_cursor
from server.sync.pull import pull
from server.sync.push import ingest
from server.terminals.auth import caller
from sync.protocol import PullQuery, PullResponse, PushRequest, PushResponse

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")


@bp.post("/push")
@endpoint(
    "Push a batch of client events (idempotent by event_id; results per event)",
    tag="sync",
    body=PushRequest,
    response=PushResponse,
    raw_body=True,
    errors=(413,),
)
def push(body: dict[str, Any]) -> PushResponse:
    svc = services()
    if "protocol_version" not in body:
        raise InvalidBody("protocol_version is required", field="protocol_version")
    unknown = sorted(set(body) - {"protocol_version", "events"})
    if unknown:
        raise InvalidBody(f"unknown field {unknown[0]!r}", field=unknown[0])
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidBody("events must be a non-empty list of events", field="events")
    limit = svc.config.max_push_events
    if len(events) > limit:
        raise TooLarge(
            f"{len(events)} events in one push; at most {limit} per batch", field="events"
        )
    return ingest(svc, caller(), events, maybe_nul=may_hold_nul(request.get_data(cache=True)))


@bp.get("/pull")
@endpoint(
    "Changes since a cursor: products, stock, clerks, customers, delivery slots, this "
    "terminal's slot allotments, phone orders",
    tag="sync",
    query=PullQuery,
    response=PullResponse,
)
def pull_changes(query: PullQuery) -> PullResponse:
    svc = services()
    who = caller()
    # This terminal's slot allotments first, committed on their own, so the page can carry
    # the changes announcing them (server/delivery/allotments.py).
    parse_cursor(query.cursor)
    in_transaction(
        svc.sessions,
        lambda session: refresh_allotments(
            session,
            who.store_id,
            who.terminal(),
            query.cursor,
            query.bookings_pending,
            datetime.now(UTC),
        ),
        what="slot allotments",
    )
    with svc.sessions() as session, session.begin():
        return pull(session, svc, who.store_id, query.cursor, query.limit, who.terminal_id)
