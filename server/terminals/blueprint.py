"""Terminals: enrollment (code → id + bearer token) and who-am-I."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from server.api import endpoint
from server.db import unit_of_work
from server.models import Store
from server.services import services
from server.terminals.auth import caller, enroll
from sync.protocol import EnrollRequest, EnrollResponse, StoreInfo, TerminalInfo

bp = Blueprint("terminals", __name__, url_prefix="/api/v1/terminals")


@bp.post("/enroll")
@endpoint(
    "Exchange a one-time enrollment code for a terminal id and bearer token",
    tag="terminals",
    body=EnrollRequest,
    response=EnrollResponse,
    auth=False,
    status=201,
    errors=(403, 409),
)
def enroll_terminal(body: EnrollRequest) -> EnrollResponse:
    with unit_of_work(services().sessions) as session:
        done = enroll(session, body.code, body.terminal_code, body.name)
        store = StoreInfo(
            id=str(done.store.id),
            code=done.store.code,
            name=done.store.name,
            currency=done.store.currency,
            time_zone=done.store.time_zone,
        )
    return EnrollResponse(
        terminal_id=str(done.terminal_id),
        token=done.token,
        terminal_code=body.terminal_code,
        store=store,
    )


@bp.get("/me")
@endpoint("The calling terminal and its store", tag="terminals", response=TerminalInfo)
def me() -> TerminalInfo:
    who = caller()
    with services().sessions() as session:
        time_zone = session.scalars(select(Store.time_zone).where(Store.id == who.store_id)).one()
    return TerminalInfo(
        terminal_id=str(who.terminal()),
        terminal_code=who.terminal_code,
        name=who.terminal_name,
        store=StoreInfo(
            id=str(who.store_id),
            code=who.store_code,
            name=who.store_name,
            currency=who.currency,
            time_zone=time_zone,
        ),
    )
