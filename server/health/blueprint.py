"""GET /api/v1/health: is the server up and its database reachable (no token needed)."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from server.api import endpoint
from server.services import services
from sync.protocol import PROTOCOL_VERSION, HealthResponse

bp = Blueprint("health", __name__, url_prefix="/api/v1")


@bp.get("/health")
@endpoint(
    "Liveness and database check",
    tag="health",
    response=HealthResponse,
    auth=False,
    protocol_header=False,
)
def health() -> HealthResponse:
    with services().sessions() as session:
        session.execute(text("SELECT 1"))
    return HealthResponse(status="ok", database="ok", protocol_version=PROTOCOL_VERSION)
