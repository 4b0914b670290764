"""Reading a request's JSON body (or query) safely: the one place pydantic errors
become the API's error body.

Too large -> 413 ``too_large``; a non-JSON content type -> 415; not JSON -> 400
``bad_json``; JSON of the wrong shape -> 422 ``invalid_input`` with each field
error listed in ``details.errors`` (never the offending value: it may be huge).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from conference.errors import InvalidInput
from web.errors import BadRequest

MAX_BODY_BYTES = 1024 * 1024
MAX_LISTED_ERRORS = 20

M = TypeVar("M", bound=BaseModel)


class BodyInvalid(InvalidInput):
    """A body or query of the wrong shape (422), with pydantic's errors summarised."""

    def __init__(self, errors: list[ErrorDetails]) -> None:
        listed = [_summary(e) for e in errors[:MAX_LISTED_ERRORS]]
        first = listed[0]
        where = f"{first['field']}: " if first["field"] else ""
        super().__init__(f"{where}{first['message']}", field=first["field"])
        self.details = {"field": first["field"], "errors": listed,
                        "error_count": len(errors)}


def field_path(loc: tuple[int | str, ...]) -> str | None:
    """``("care_history", 0, "kind")`` -> ``"care_history[0].kind"``, as InvalidInput names it."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _summary(error: ErrorDetails) -> dict[str, Any]:
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "Unknown field."
    return {"field": field_path(tuple(error["loc"])), "message": message, "type": error["type"]}


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise BadRequest("Send the body as JSON (Content-Type: application/json).", status=415,
                         code="unsupported_media_type")


async def raw_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes."""
    too_large = BadRequest(f"The body is larger than {limit} bytes.", status=413,
                           code="too_large")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: Request, model: type[M], *, optional: bool = False) -> M:
    """Parse and validate the JSON body; an absent body is ``{}`` when ``optional``."""
    _check_content_type(request)
    return parse_body(request, await raw_body(request), model, optional=optional)


def parse_body(request: Request, raw: bytes, model: type[M], *, optional: bool = False) -> M:
    """Validate a body already read (no I/O: safe in a worker thread)."""
    _check_content_type(request)
    if optional and not raw.strip():
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise BadRequest(f"The body is not JSON: {errors[0]['msg']}", code="bad_json",
                             details={"reason": errors[0]["msg"]}) from None
        raise BodyInvalid(errors) from None


def read_query(params: Mapping[str, str], model: type[M]) -> M:
    """Validate query parameters (strings, so numbers are parsed from text)."""
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        raise BodyInvalid(exc.errors(include_input=False, include_url=False)) from None
