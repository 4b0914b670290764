"""Sign in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from conference.errors import InvalidInput, NotAuthenticated, TooManyRequests, gather
from conference.signin import check_filled
from conference.text import NUL, refuse_nul
from storage import users
from web.auth import authenticate, check_csrf, optional_user, sign_in, sign_out
from web.db import db
from web.errors import status_for
from web.pages.forms import Form, apply_error
from web.templating import render


def safe_next(value: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our name.
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def _signed_in_already(request: Request) -> bool:
    with db(request) as session:
        return optional_user(request, session) is not None


def _login_page(request: Request, form: Form, next_url: str, *, error: str | None = None,
                status: int = 200) -> Response:
    oidc = request.app.state.settings.oidc
    return render(request, "pages/login.html", {"form": form, "error": error, "next": next_url,
                                                "sso_name": oidc.name if oidc else None},
                  status)


async def login(request: Request) -> Response:
    if request.method == "GET":
        if await run_in_threadpool(_signed_in_already, request):
            return RedirectResponse(safe_next(request.query_params.get("next")), 303)
        return _login_page(request, Form(), request.query_params.get("next", "/"))
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "/")))
    typed = Form.of({"email": email.replace(NUL, "")})
    try:
        check_csrf(request, form.get("csrf_token"))
        gather(lambda: refuse_nul(email, field="email"),
               lambda: refuse_nul(password, field="password"))
        check_filled(email=email, password=password)
        user = await authenticate(request, email, password)
    except InvalidInput as exc:
        apply_error(typed, exc)
        return _login_page(request, typed, next_url, status=status_for(exc))
    except (NotAuthenticated, TooManyRequests) as exc:
        return _login_page(request, typed, next_url, error=exc.message,
                           status=status_for(exc))
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
