"""Page handlers, wrapped the way the API's ``operation()`` wraps its routes.

Every page does the same things in the same order, so they are done here once:

- :func:`view` (a GET): in a worker thread, open one database session, identify
  the person (401 becomes the sign-in redirect), run the handler, commit.
- :func:`action` (a form POST): read the form on the event loop (the only thing
  that awaits), then in a worker thread: open one session, identify the person,
  check the CSRF token, read the form with the API's pydantic model
  (:class:`web.pages.form_model.FormModel`: the same limits, messages next to the
  fields), run the handler and commit. A refusal the person can fix in the form
  (:class:`InvalidInput`, :class:`Conflict`) rolls the work back and re-renders the
  page from the same session with everything as typed, at the status that
  ``web/errors.py``'s one table gives the error. Any other domain error becomes
  the error page there too.

The SQL and the templates run in a worker thread, never on the event loop that
forwards the live rooms' media.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from conference.errors import CasebridgeError, Conflict, InvalidInput
from storage.tables import User
from web.db import db, undo
from web.errors import status_for
from web.pages.common import path_id, signed_in
from web.pages.form_model import FormModel
from web.pages.forms import Form, FormInvalid, apply_error, read_form

B = TypeVar("B", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Visit:
    """A signed-in person's request, with the session its work runs in."""

    request: Request
    session: Session
    user: User

    def id(self, name: str = "id") -> int:
        return path_id(self.request, name)


@dataclass
class Posted(Visit, Generic[B]):
    """A posted form: what was typed (``form``, kept for a re-render), the values
    read with the API's model (``body``), and what a refusal adds to the page."""

    form: Form = dataclasses.field(default_factory=Form)
    body: B | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def values(self) -> B:
        assert self.body is not None, "this action reads no model"
        return self.body


@dataclass(frozen=True)
class Refusal:
    """Where a fixable refusal goes on the form: ``rename`` maps the domain's field
    names to the form's; a refusal without a field (or a conflict) goes to ``field``."""

    field: str = "form"
    rename: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def show(self, call: Posted[Any], exc: CasebridgeError) -> None:
        if isinstance(exc, InvalidInput):
            apply_error(call.form, exc, rename=self.rename, fallback=self.field)
        else:
            call.form.fail(self.field, exc.message)


def view(handler: Callable[[Visit], Response]) -> Endpoint:
    """A page for signed-in people."""

    def work(request: Request) -> Response:
        with db(request) as session:
            return handler(Visit(request, session, signed_in(request, session)))

    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(work, request)

    endpoint.__name__ = handler.__name__
    return endpoint


def action(
    handler: Callable[[Posted[B]], Response],
    *,
    again: Callable[[Posted[B], int], Response] | None = None,
    model: FormModel[B] | None = None,
    refusal: Refusal = Refusal(),
    refused: Callable[[Posted[B], CasebridgeError], None] | None = None,
    field_names: Callable[[Posted[B]], Mapping[str, str]] | None = None,
) -> Endpoint:
    """A form POST. ``again(call, status)`` re-renders the page with ``call.form``
    and ``call.extra``; ``refused`` (or ``refusal``) puts a refusal on the form;
    ``field_names`` renames fields for the re-render (a row's own form names its
    field after the row, so the message shows on the right row). Without
    ``again`` (a button, not a form to correct) every refusal is the error page."""

    def work(request: Request, form: Form) -> Response:
        with db(request) as session:
            call: Posted[B] = Posted(request, session, signed_in(request, session), form)
            try:
                if model is not None:
                    call.body = model.read(form)
                return handler(call)
            except (InvalidInput, Conflict) as exc:
                if again is None:
                    raise
                undo(session)
                if not isinstance(exc, FormInvalid):  # else its messages are on the form
                    (refused or refusal.show)(call, exc)
                for old, new in (field_names(call) if field_names else {}).items():
                    call.form.rename(old, new)
                return again(call, status_for(exc))

    async def endpoint(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(work, request, form)

    endpoint.__name__ = handler.__name__
    return endpoint
