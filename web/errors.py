"""Domain errors become HTTP responses here, and only here.

One table maps each branch of ``conference.errors`` to a status code; API
requests get the CONTRACT error body, page requests an HTML error page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conference.errors import (
    ArchiveUnavailable,
    CasebridgeError,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from web.pages.errors import error_page

log = logging.getLogger(__name__)

STATUS: list[tuple[type[CasebridgeError], int]] = [
    (InvalidInput, 422),
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (TooManyRequests, 429),
    (NotFound, 404),
    (Conflict, 409),
]

HTTP_CODES = {
    400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid_input", 429: "rate_limited",
}


class BadRequest(CasebridgeError):
    """The request itself is malformed (400): not JSON, wrong content type, too large."""

    code = "bad_request"

    def __init__(self, message: str, *, status: int = 400, code: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message, details=details, code=code)
        self.status = status


def status_for(exc: CasebridgeError) -> int:
    if isinstance(exc, BadRequest):
        return exc.status
    if isinstance(exc, ArchiveUnavailable):
        return exc.gateway_status
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def is_fhir(request: Request) -> bool:
    return request.url.path.startswith("/fhir/")


# FHIR clients read errors as an OperationOutcome; its issue type by HTTP status.
ISSUE_TYPES = {
    400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
    409: "conflict", 413: "too-long", 415: "not-supported", 422: "invalid", 429: "throttled",
    500: "exception", 502: "transient", 503: "transient", 504: "timeout",
}


def operation_outcome(status: int, message: str,
                      headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": ISSUE_TYPES.get(status, "processing"),
        "diagnostics": message}]}
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type="application/fhir+json")


def json_error(exc: CasebridgeError, *, fhir: bool = False) -> JSONResponse:
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if fhir:
        return operation_outcome(status_for(exc), exc.message, headers)
    return JSONResponse(error_body(exc.code, exc.message, exc.details),
                        status_code=status_for(exc), headers=headers)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CasebridgeError)
    if is_api(request) or is_fhir(request):
        return json_error(exc, fhir=is_fhir(request))
    return await run_in_threadpool(error_page, request, exc, status_for(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    if is_fhir(request):
        return operation_outcome(exc.status_code, str(exc.detail), exc.headers)
    if is_api(request) or exc.status_code == 405:
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=exc.headers)
    error = CasebridgeError(str(exc.detail), code=code)
    return await run_in_threadpool(error_page, request, error, exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    # Never leak a traceback; the log has it.
    if is_fhir(request):
        return operation_outcome(500, "Something went wrong on our side.")
    if is_api(request):
        return JSONResponse(error_body("internal_error", "Something went wrong on our side."),
                            status_code=500)
    error = CasebridgeError("Something went wrong on our side.", code="internal_error")
    return await run_in_threadpool(error_page, request, error, 500)


DATABASE_RETRY_SECONDS = 5


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached (down, restarting, every connection busy): 503,
    never a 500. Nothing was changed, so the request may simply be sent again; the
    engine checks each connection before use and recovers by itself when it is back."""
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path,
                type(exc).__name__)
    message = ("The database cannot be reached just now; nothing was changed. "
               "Try again in a moment.")
    headers = {"Retry-After": str(DATABASE_RETRY_SECONDS)}
    if is_fhir(request):
        return operation_outcome(503, message, headers)
    if is_api(request):
        return JSONResponse(error_body("database_unavailable", message), status_code=503,
                            headers=headers)
    error = CasebridgeError(message, code="database_unavailable")
    response = await run_in_threadpool(error_page, request, error, 503)
    response.headers.update(headers)
    return response


EXCEPTION_HANDLERS = {
    CasebridgeError: domain_error,
    HTTPException: http_error,
    # Connection lost or refused, or no connection free in time (not a bad statement).
    OperationalError: database_unavailable,
    InterfaceError: database_unavailable,
    PoolTimeout: database_unavailable,
    500: server_error,
}
