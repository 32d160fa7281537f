"""Structured JSON logs, one line per request, with a request id. Tokens are never logged:
only method, path, status, duration, the terminal id and the request id are — and the path
with a pay page's token cut out (``/pay/…``: the token is all a customer's link holds).
A customer's personal data (name, phone, e-mail, address) is never logged: bodies are not,
and the search terms of ``GET /customers`` are cut out of any request line."""

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
_PAY_TOKEN_IN_PATH = re.compile(r"(/pay/)[^/?#\s]+")
# A customer's personal data in a query string (``GET /customers?phone=…&q=…``).
_PERSONAL_QUERY = re.compile(r"((?:^|[?&])(?:phone|q|email|name)=)[^&#\s]*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_path(text: str) -> str:
    """``text`` (a path, a URL, a request line) with any pay page token and any customer
    search term (phone, name, e-mail) replaced; the same rule for the app's request log and
    gunicorn's access log (gunicorn.conf.py)."""
    text = _PAY_TOKEN_IN_PATH.sub(r"\1" + REDACTED, text)
    return _PERSONAL_QUERY.sub(r"\1" + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Pay page tokens cut out of another library's log lines (werkzeug's development server
    logs each request line: ``shopsmart-server run``, the embedded default)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        return True


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
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(RedactingFilter())

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
                "path": redact_path(request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 2),
                "terminal_id": str(who.terminal_id) if who and who.terminal_id else None,
                "bytes_in": request.content_length or 0,
            },
        )
        return response
