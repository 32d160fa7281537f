"""The OpenAPI 3.1 document, generated from the endpoint declarations and pydantic models."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from server.api import EndpointSpec
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, ErrorResponse

bp = Blueprint("openapi", __name__, url_prefix="/api")

_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
ERROR_TEXT = {
    400: "Bad request (e.g. unsupported protocol version)",
    401: "Missing, unknown or revoked bearer token",
    403: "Forbidden",
    404: "Not found, or not the caller's store",
    409: "Conflicts with the current state",
    413: "Body too large, or too many events in one push",
    415: "Body is not JSON",
    422: "Body or query does not validate",
    429: "Rate limited; see Retry-After",
    503: "Not available on this server (e.g. card payments not configured)",
}


@dataclass(frozen=True)
class PageResponse:
    """One documented answer of a route outside the JSON API: its media type, and the
    pydantic model of its body when that is JSON (None: HTML, or any JSON object)."""

    media_type: str = "application/json"
    model: type[BaseModel] | None = None
    description: str = ""


@dataclass(frozen=True)
class PageSpec:
    """A route that is not an ``@endpoint`` (the customer's pay page, Stripe's webhook),
    declared beside it so the document lists it and schemathesis fuzzes it too."""

    summary: str
    tag: str
    responses: dict[int, tuple[PageResponse, ...]]
    json_body: bool = False  # any JSON object, read by the route itself
    headers: tuple[str, ...] = ()  # optional request headers the route reads
    throttled: bool = True  # server/ratelimit.py's open-route throttle: 429 + Retry-After
    path_patterns: tuple[tuple[str, str], ...] = ()  # (parameter, regex) of what it takes


V = TypeVar("V", bound=Callable[..., Any])


def page(spec: PageSpec) -> Callable[[V], V]:
    def mark(view: V) -> V:
        view.page_spec = spec  # type: ignore[attr-defined]
        return view

    return mark


HTML = PageResponse("text/html")
JSON_ERROR = PageResponse("application/json", ErrorResponse)


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify(build_openapi(current_app))


def _routes(app: Flask, attribute: str) -> list[tuple[str, str, str, Any]]:
    """Every (path, method, endpoint, spec) whose view carries ``attribute`` (``api_spec`` or
    ``page_spec``), the path in OpenAPI's ``{param}`` form, sorted."""
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions[rule.endpoint], attribute, None)
        if spec is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((_PATH_PARAM.sub(r"{\1}", rule.rule), method.lower(), rule.endpoint, spec))
    return sorted(found, key=lambda item: (item[0], item[1]))


def _endpoints(app: Flask) -> list[tuple[str, str, str, EndpointSpec]]:
    return _routes(app, "api_spec")


def _pages(app: Flask) -> list[tuple[str, str, str, PageSpec]]:
    return _routes(app, "page_spec")


def _page_operation(app: Flask, name: str, spec: PageSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    answers = dict(spec.responses)
    if spec.throttled:
        answers.setdefault(429, (JSON_ERROR,))
    for status, options in sorted(answers.items()):
        content: dict[str, Any] = {}
        for option in options:
            schema = refs[(option.model, "serialization")] if option.model is not None else None
            if schema is None and option.media_type == "application/json":
                schema = {"type": "object"}
            content[option.media_type] = {"schema": schema} if schema is not None else {}
        responses[str(status)] = {
            "description": next((o.description for o in options if o.description), "")
            or ERROR_TEXT.get(status, "OK"),
            "content": content,
        }
        if status == 429:
            responses["429"]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "required": True}
            }
    patterns = dict(spec.path_patterns)
    parameters: list[dict[str, Any]] = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "string", **({"pattern": patterns[p]} if p in patterns else {})},
        }
        for p in _PATH_PARAM.findall(app.url_map._rules_by_endpoint[name][0].rule)
    ]
    parameters += [
        {"name": h, "in": "header", "required": False, "schema": {"type": "string"}}
        for h in spec.headers
    ]
    operation: dict[str, Any] = {
        "operationId": name.replace(".", "_"),
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if spec.json_body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return operation


def _no_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is a string or absent, never JSON null."""
    options = schema.get("anyOf")
    if options:
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            merged.update(rest[0])
            return merged
    return schema


def build_openapi(app: Flask) -> dict[str, Any]:
    endpoints = _endpoints(app)
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorResponse, "serialization"): None
    }
    for _, _, _, spec in endpoints:
        models[(spec.response, "serialization")] = None
        if spec.body is not None:
            models[(spec.body, "validation")] = None
        for _, model in spec.error_bodies:
            models[(model, "serialization")] = None
    pages = _pages(app)
    for _, _, _, page_spec in pages:
        for options in page_spec.responses.values():
            for option in options:
                if option.model is not None:
                    models[(option.model, "serialization")] = None
    refs, defs = models_json_schema(list(models), ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})
    error_ref = refs[(ErrorResponse, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for path, method, name, spec in endpoints:
        known = dict(spec.path_values)  # a parameter that takes one of a few values
        parameters: list[dict[str, Any]] = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "string", **({"enum": list(known[p])} if p in known else {})},
            }
            for p in _PATH_PARAM.findall(app.url_map._rules_by_endpoint[name][0].rule)
        ]
        if spec.query is not None:
            query_schema = spec.query.model_json_schema()
            required = set(query_schema.get("required", []))
            for field, schema in query_schema.get("properties", {}).items():
                parameters.append(
                    {
                        "name": field,
                        "in": "query",
                        "required": field in required,
                        "schema": _no_null(schema),
                    }
                )
        if spec.protocol_header:
            parameters.append(
                {
                    "name": PROTOCOL_HEADER,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "integer", "enum": [PROTOCOL_VERSION]},
                }
            )
        statuses = {400} | set(spec.errors)
        if spec.auth:
            statuses |= {401, 429}
        if spec.query is not None or spec.body is not None:
            statuses.add(422)
        if spec.body is not None:
            statuses |= {413, 415}
        if "{" in path:
            statuses.add(404)
        responses: dict[str, Any] = {
            str(spec.status): {
                "description": "OK",
                "content": {"application/json": {"schema": refs[(spec.response, "serialization")]}},
            }
        }
        special = dict(spec.error_bodies)
        for status in sorted(statuses):
            schema = refs[(special[status], "serialization")] if status in special else error_ref
            responses[str(status)] = {
                "description": ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": schema}},
            }
            if status == 429:
                responses["429"]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "required": True}
                }
        operation: dict[str, Any] = {
            "operationId": name.replace(".", "_"),
            "summary": spec.summary,
            "tags": [spec.tag],
            "parameters": parameters,
            "responses": responses,
        }
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        if spec.auth:
            operation["security"] = [{"bearerAuth": []}]
        paths.setdefault(path, {})[method] = operation
    for path, method, name, page_spec in pages:
        paths.setdefault(path, {})[method] = _page_operation(app, name, page_spec, refs)
    paths["/api/openapi.json"] = {
        "get": {
            "operationId": "openapi_document",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShopSmart sync server",
            "version": str(PROTOCOL_VERSION),
            "description": (
                "Terminals enroll once, then push events and pull changes. Requests with a "
                f"JSON body carry protocol_version; others send the {PROTOCOL_HEADER} header."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
