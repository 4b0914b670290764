"""Small helpers every page handler uses: who is asking, flash notes, redirects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from conference.people import Role, Specialty
from storage import conferences, notifications
from storage.cases import ImagingPolicy
from storage.tables import Conference, User
from web.auth import require_user
from web.settings import Settings
from web.templating import render


@dataclass(frozen=True)
class Viewer:
    """Who the templates greet. A plain copy, not the ORM row: a refused write rolls
    the session back and expires its rows, and the error page must still render."""

    id: int
    name: str
    role: Role
    specialty: Specialty | None
    unread: int = 0  # notifications not read yet, shown in the navigation
    mail_notices: bool = True

    @classmethod
    def of(cls, session: Session, user: User) -> Viewer:
        assert user.id is not None
        return cls(user.id, user.name, user.role, user.specialty,
                   notifications.unread_count(session, user.id), user.mail_notices)


def signed_in(request: Request, session: Session) -> User:
    """The signed-in person (or NotAuthenticated), made visible to the base template."""
    user = require_user(request, session)
    assert user.id is not None
    request.state.user = Viewer.of(session, user)
    return user


def flash(request: Request, message: str) -> None:
    """A one-line note shown once on the next page (after a redirect)."""
    request.session["flash"] = message


def page(request: Request, name: str, context: dict[str, Any] | None = None,
         status: int = 200) -> HTMLResponse:
    ctx = {"flash": request.session.pop("flash", None), **(context or {})}
    return render(request, name, ctx, status)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def path_id(request: Request, name: str = "id") -> int:
    value = request.path_params[name]
    assert isinstance(value, int)
    return value


def settings_of(request: Request) -> Settings:
    value = request.app.state.settings
    assert isinstance(value, Settings)
    return value


def imaging_policy(request: Request) -> ImagingPolicy:
    return settings_of(request).imaging_policy()


def visible_conference(session: Session, user: User, conference_id: int) -> Conference:
    """The conference, if the person organises or belongs to it; otherwise not found."""
    return conferences.visible_conference(session, viewer=user, conference_id=conference_id)
