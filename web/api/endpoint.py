"""One API operation: a route that knows its body and response models.

``operation(...)`` wraps a handler so that every route does the same things in
the same order: open a database session, identify the caller (401), check the
CSRF token on cookie-authenticated writes (403), read the body with its model
(400/413/415/422), run the handler, serialise the result with its response model,
and commit. The same models feed the OpenAPI document (``web/api/openapi.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conference.errors import NotFound
from storage.tables import User
from web.api.body import parse_body, raw_body
from web.api.schemas import MAX_ID, Empty
from web.auth import check_csrf, require_user
from web.db import db

B = TypeVar("B", bound=BaseModel)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def path_id(request: Request, name: str = "id") -> int:
    """An integer id from the path (the route's ``:int`` convertor); out of range is 404."""
    value = request.path_params[name]
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(f"Nothing here has {name} {value}.")
    return value


@dataclass(frozen=True)
class Call(Generic[B]):
    """Everything a handler needs: the request, a session, the caller and the body."""

    request: Request
    session: Session
    user: User
    body: B

    def id(self, name: str = "id") -> int:
        return path_id(self.request, name)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about a route."""

    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    authenticated: bool = True
    optional_body: bool = False
    query: type[BaseModel] | None = None
    media_type: str = "application/json"


class ApiRoute(Route):
    """A Starlette route carrying its :class:`Operation`."""

    def __init__(self, path: str, endpoint: Callable[[Request], Awaitable[Response]],
                 *, method: str, op: Operation) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.op = op


def dump(result: BaseModel | Sequence[BaseModel]) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return [item.model_dump(mode="json") for item in result]


def operation(
    method: str,
    path: str,
    handler: Callable[[Call[B]], BaseModel | Sequence[BaseModel]],
    *,
    body: type[B],
    summary: str,
    tag: str,
    response: type[BaseModel],
    many: bool = False,
    status: int = 200,
    optional_body: bool = False,
    query: type[BaseModel] | None = None,
    media_type: str = "application/json",
) -> ApiRoute:
    """An authenticated route; ``body`` is :class:`Empty` for routes without one (with
    ``optional_body``, an empty object or no body at all is accepted, nothing else)."""
    takes_body = body is not Empty or optional_body

    def work(request: Request, raw: bytes) -> Any:
        with db(request) as session:
            user = require_user(request, session)
            if method in WRITES:
                check_csrf(request, None)
            if takes_body:
                parsed = parse_body(request, raw, body, optional=optional_body)
            else:
                parsed = body()
            return dump(handler(Call(request, session, user, parsed)))

    async def endpoint(request: Request) -> Response:
        # Only reading the body awaits; the SQL and the handler run in a worker
        # thread, so a slow query never stalls the media that the live rooms
        # forward on this event loop.
        raw = await raw_body(request) if takes_body else b""
        content = await run_in_threadpool(work, request, raw)
        return JSONResponse(content, status_code=status, media_type=media_type)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    op = Operation(summary=summary, tag=tag, body=body if takes_body else None,
                   response=response, many=many, status=status, optional_body=optional_body,
                   query=query, media_type=media_type)
    return ApiRoute(path, endpoint, method=method, op=op)
