"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from conference.errors import InvalidInput, NotAuthenticated, TooManyRequests
from conference.text import NUL, refuse_nul
from storage import users
from web.auth import authenticate, check_csrf, optional_user, sign_in, sign_out
from web.db import db
from web.errors import status_for
from web.templating import render


def _safe_next(value: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our name.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def _signed_in_already(request: Request) -> bool:
    with db(request) as session:
        return optional_user(request, session) is not None


async def login(request: Request) -> Response:
    if request.method == "GET":
        if await run_in_threadpool(_signed_in_already, request):
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return render(request, "pages/login.html",
                      {"next": request.query_params.get("next", "/"), "email": ""})
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_url = _safe_next(str(form.get("next", "/")))
    try:
        check_csrf(request, form.get("csrf_token"))
        refuse_nul(email, field="email")
        refuse_nul(password, field="password")
        user = await authenticate(request, email, password)
    except (InvalidInput, NotAuthenticated, TooManyRequests) as exc:
        return render(request, "pages/login.html",
                      {"error": exc.message, "email": email.replace(NUL, ""), "next": next_url},
                      status_for(exc))
    sign_in(request, user)
    return RedirectResponse(next_url, status_code=303)


def _end_sessions(request: Request) -> None:
    """Signing out ends every session and token of the person, not only this cookie:
    a copy of it (a shared workstation, a stolen cookie) stops working too."""
    with db(request) as session:
        user = optional_user(request, session)
        if user is not None:
            users.revoke_credentials(session, user)


async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    await run_in_threadpool(_end_sessions, request)
    sign_out(request)
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
]
