"""Structured JSON logs, one line per request, with a request id. Tokens are never logged:
only method, path, status, duration, the terminal id and the request id are."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

log = logging.getLogger("shopsmart.server.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    logger = logging.getLogger("shopsmart.server")
    logger.setLevel(level.upper())
    if not any(getattr(h, "shopsmart", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.shopsmart = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False


def install_request_logging(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", "")
        response.headers["X-Request-Id"] = request_id
        if not log.isEnabledFor(logging.INFO):  # WARNING silences the request lines
            return response
        who = getattr(g, "caller", None)
        log.info(
            "request",
            extra={
                "event": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 2),
                "terminal_id": str(who.terminal_id) if who and who.terminal_id else None,
                "bytes_in": request.content_length or 0,
            },
        )
        return response
