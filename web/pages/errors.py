from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from conference.errors import CasebridgeError, NotAuthenticated
from web.auth import optional_user
from web.db import db
from web.pages.common import Viewer
from web.templating import render


def _greet(request: Request) -> None:
    """Show the navigation on error pages too, when we know who is asking."""
    if getattr(request.state, "user", None) is not None:
        return
    try:
        with db(request) as session:
            user = optional_user(request, session)
            if user is not None and user.id is not None:
                request.state.user = Viewer.of(session, user)
    except (CasebridgeError, SQLAlchemyError):
        pass  # the error page must render even when this cannot


def error_page(request: Request, exc: CasebridgeError, status: int) -> Response:
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    _greet(request)
    return render(request, "pages/error.html", {"error": exc, "status": status}, status)
