"""The server's errors, and the ONE handler that turns every error into JSON."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app.domain.barcode import DuplicateBarcode
from app.domain.errors import PosError
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, ErrorResponse

log = logging.getLogger("shopsmart.server")


class ApiError(Exception):
    """An error answered to the client: HTTP status, machine code, message, field path."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}  # more fields of the error body (documented per endpoint)


class InvalidBody(ApiError):
    status, code = 422, "invalid_body"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class UnsupportedProtocol(ApiError):
    status, code = 400, "unsupported_protocol_version"


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """A pydantic error location as a path a person reads: ``lines[2].quantity``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def from_validation_error(exc: ValidationError, prefix: str = "") -> ApiError:
    first = exc.errors(include_url=False)[0]
    loc = tuple(p for p in first["loc"] if not _is_union_tag(p))
    return InvalidBody(first["msg"], field=field_path(loc, prefix) or None)


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the discriminator value ("order.paid") into locations; it is no field.
    return isinstance(part, str) and "." in part


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Any = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body = ErrorResponse(error=code, message=message, field=field)
    response = jsonify({**body.model_dump(), **(extra or {})})
    response.status_code = status
    # Says "this refusal is the server's own": a till takes only such an answer as a refusal
    # (an error page from a proxy or firewall in between is retried, docs/sync.md).
    response.headers[PROTOCOL_HEADER] = str(PROTOCOL_VERSION)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handler(app: Flask) -> None:
    @app.errorhandler(Exception)
    def handle(exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            return error_response(
                exc.status, exc.code, exc.message, exc.field, exc.headers, exc.extra
            )
        if isinstance(exc, PosError):  # a shop rule (app.domain) refused what was asked
            status = 409 if isinstance(exc, DuplicateBarcode) else 422
            return error_response(status, exc.code, exc.message, exc.field)
        if isinstance(exc, ValidationError):
            err = from_validation_error(exc)
            return error_response(err.status, err.code, err.message, err.field)
        if isinstance(exc, HTTPException):
            status = exc.code or 500
            code = (exc.name or "error").lower().replace(" ", "_")
            if status == 413:
                code = "too_large"
            return error_response(status, code, exc.description or exc.name or "error")
        log.exception("unhandled error", extra={"event": "unhandled_error"})
        return error_response(500, "internal_error", "the server failed; it has been logged")
