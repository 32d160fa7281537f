"""Declaring an endpoint once: its models, its auth, its errors.

``@endpoint(...)`` parses and validates the query string and JSON body into the pydantic
models of sync/protocol.py, checks the protocol version, the bearer token and the rate
limit, and serialises the returned model. The same declaration feeds the OpenAPI document
(server/openapi.py), so documentation and behaviour cannot drift apart.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, g, request
from pydantic import BaseModel, ValidationError

from server.errors import ApiError, InvalidBody, RateLimited, UnsupportedProtocol
from server.errors import from_validation_error as _from_validation_error
from server.ratelimit import RateLimiter
from server.services import services
from server.terminals.auth import authenticate
from sync.protocol import PROTOCOL_HEADER, SUPPORTED_PROTOCOL_VERSIONS


@dataclass(frozen=True)
class EndpointSpec:
    summary: str
    tag: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    protocol_header: bool = True
    status: int = 200
    errors: tuple[int, ...] = ()
    raw_body: bool = False  # the view validates the body itself (push: per item)
    error_bodies: tuple[tuple[int, type[BaseModel]], ...] = ()  # not plain ErrorResponse
    path_values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a path parameter's values


def check_protocol_version(value: Any, where: str) -> None:
    if where == PROTOCOL_HEADER and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or value not in SUPPORTED_PROTOCOL_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_PROTOCOL_VERSIONS))
        raise UnsupportedProtocol(
            f"protocol version {value!r} is not supported; this server speaks {supported}",
            field=where,
        )


def _json_body(check_nul: bool = True) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(
            "the body must be JSON (Content-Type: application/json)",
            code="unsupported_media_type",
            status=415,
        )
    data = request.get_data(cache=True)
    try:
        body = parse_json(data)
    except (ValueError, RecursionError):
        raise InvalidBody("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object")
    if check_nul and may_hold_nul(data) and has_nul(body):
        raise InvalidBody("text must not contain NUL characters", code="invalid_json")
    return body


# every digit becomes "0", everything else " ": a run of 19 digits is then a plain find
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_RUN = b"0" * 19


def parse_json(data: bytes) -> Any:
    """``json.loads``, computed by orjson (twice as fast on a push body) whenever that gives
    the very same result: orjson reads integers beyond 64 bits as floats, so a body with a
    run of 19 digits, and anything orjson refuses (NaN, lone surrogates, deep nesting),
    goes to ``json.loads`` itself."""
    if data.translate(_DIGITS_AS_ZEROS).find(_LONG_RUN) < 0:  # a tenth of a regex search
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def may_hold_nul(data: bytes) -> bool:
    """Cheap pre-check on the raw body before walking the parsed JSON."""
    return b"\\u0000" in data or b"\x00" in data


def has_nul(value: Any) -> bool:
    """Does any string (or key) in the parsed JSON hold a NUL, which no database takes?"""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def _reject_nul(values: dict[str, Any], where: str) -> None:
    for key, value in values.items():
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise ApiError(
                f"{where} must not contain NUL characters",
                code="invalid_" + where,
                field=key,
                status=422 if where == "query" else 404,
            )


def _query_args(model: type[BaseModel]) -> BaseModel:
    args: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        args[key] = values[0] if len(values) == 1 else values
    _reject_nul({k: v if isinstance(v, str) else "".join(v) for k, v in args.items()}, "query")
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise _from_validation_error(exc) from None


def endpoint(
    summary: str,
    *,
    tag: str,
    response: type[BaseModel],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    auth: bool = True,
    protocol_header: bool | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    raw_body: bool = False,
    error_bodies: tuple[tuple[int, type[BaseModel]], ...] = (),
    path_values: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    spec = EndpointSpec(
        summary=summary,
        tag=tag,
        response=response,
        body=body,
        query=query,
        auth=auth,
        protocol_header=(body is None) if protocol_header is None else protocol_header,
        status=status,
        errors=errors,
        raw_body=raw_body,
        error_bodies=error_bodies,
        path_values=path_values,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**path: Any) -> Response:
            header = request.headers.get(PROTOCOL_HEADER)
            if header is not None:
                check_protocol_version(header, PROTOCOL_HEADER)
            elif spec.protocol_header:
                raise UnsupportedProtocol(
                    f"send the protocol version in the {PROTOCOL_HEADER} header",
                    code="protocol_version_missing",
                    field=PROTOCOL_HEADER,
                )
            if spec.auth:
                _authenticate()
            _reject_nul(path, "path")
            kwargs: dict[str, Any] = dict(path)
            if spec.query is not None:
                kwargs["query"] = _query_args(spec.query)
            if spec.body is not None:
                raw = _json_body(check_nul=not spec.raw_body)
                if "protocol_version" in raw:
                    check_protocol_version(raw["protocol_version"], "protocol_version")
                if spec.raw_body:
                    kwargs["body"] = raw
                else:
                    try:
                        kwargs["body"] = spec.body.model_validate(raw)
                    except ValidationError as exc:
                        raise _from_validation_error(exc) from None
            result = view(**kwargs)
            # pydantic writes the JSON itself (no dict of dicts in between)
            return Response(
                result.model_dump_json(), status=spec.status, mimetype="application/json"
            )

        wrapper.api_spec = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _authenticate() -> None:
    svc = services()
    with svc.sessions() as session, session.begin():
        g.caller = authenticate(session, request.headers.get("Authorization"))
        wait = svc.rate_limiter.take(session, g.caller.id)
    if wait:
        raise RateLimited(
            "too many requests from this terminal; retry later",
            headers={"Retry-After": RateLimiter.retry_after_header(wait)},
        )
