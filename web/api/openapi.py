"""The OpenAPI 3.1 document, generated from the routes and the models they validate with.

Every :class:`~web.api.endpoint.ApiRoute` carries its body, query and response
models; their JSON Schemas (pydantic's, JSON Schema 2020-12 as OpenAPI 3.1 uses)
go to ``components.schemas`` and operations refer to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from web.api.endpoint import ApiRoute, Operation
from web.api.views import ErrorBody

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")

ERRORS = {
    "400": "The body is not JSON (bad_json)",
    "401": "Not signed in, or the token is invalid or expired",
    "403": "Signed in but not allowed, or a missing CSRF token on a cookie-authenticated write",
    "404": "No such thing, or not visible to you",
    "409": "Clashes with the current state (stale_version, decision_signed, quorum_not_met, "
           "agenda_mismatch, illegal_transition, conflict)",
    "413": "The body is too large",
    "415": "The body is not sent as JSON",
    "422": "A value breaks a rule; details.field names it, details.errors lists each",
    "429": "Too many failed sign-ins: the account is locked for a while",
}


def _schemas(api_routes: Sequence[ApiRoute]) -> tuple[dict[Any, Any], Any]:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorBody, "serialization")}
    for route in api_routes:
        if route.op.body is not None:
            wanted.add((route.op.body, "validation"))
        if route.op.response is not None:
            wanted.add((route.op.response, "serialization"))
        if route.op.query is not None:
            wanted.add((route.op.query, "validation"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, defs = models_json_schema(ordered, ref_template=REF)
    return dict(refs), defs.get("$defs", {})


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}} for name in _PARAM.findall(path)]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query", "required": name in required,
                           "schema": prop})
    return params


def _error_responses(route: ApiRoute, error_ref: dict[str, Any]) -> dict[str, Any]:
    codes = {"401", "422"} | ({"403", "404"} if route.op.authenticated else {"429"})
    if route.op.body is not None:
        codes |= {"400", "413", "415"}
    if route.method != "GET" and route.op.authenticated:
        codes.add("409")
    content = {"application/json": {"schema": error_ref}}
    return {c: {"description": ERRORS[c], "content": content} for c in sorted(codes)}


def _operation(route: ApiRoute, refs: dict[Any, Any]) -> dict[str, Any]:
    op = route.op
    doc: dict[str, Any] = {
        "operationId": route.name,
        "summary": op.summary,
        "tags": [op.tag],
    }
    params = _parameters(route.path, op)
    if params:
        doc["parameters"] = params
    if op.body is not None:
        doc["requestBody"] = {
            "required": not op.optional_body,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "OK" if op.status == 200 else "Created"}
    if op.response is not None:
        schema = refs[(op.response, "serialization")]
        success["content"] = {op.media_type: {
            "schema": {"type": "array", "items": schema} if op.many else schema}}
    doc["responses"] = {str(op.status): success,
                        **_error_responses(route, refs[(ErrorBody, "serialization")])}
    if not op.authenticated:
        doc["security"] = []
    return doc


def document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The whole OpenAPI document for ``routes`` (paths relative to ``/api/v1``)."""
    api_routes = [r for r in routes if isinstance(r, ApiRoute)]
    refs, schemas = _schemas(api_routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in api_routes:
        path = _PARAM.sub(r"{\1}", route.path)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Casebridge API",
            "version": "1",
            "description": "Virtual case conferences for spine care. Authenticate with "
                           "POST /auth/token, then send Authorization: Bearer <token>. "
                           "Browsers may use the session cookie instead; their writes must "
                           "send the session's CSRF token in X-CSRF-Token.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "casebridge_session"},
            },
        },
    }


def openapi_endpoint(routes: Sequence[BaseRoute]) -> Any:
    cache: dict[str, Any] = {}

    async def openapi(request: Request) -> Response:
        if "doc" not in cache:
            cache["doc"] = document(routes)
        return JSONResponse(cache["doc"])

    return openapi
