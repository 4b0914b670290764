"""Administration: the people who use Casebridge, and adding one."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.errors import Conflict, InvalidInput, PermissionDenied
from conference.people import SPECIALTY_LABELS, Role, Specialty
from storage import users
from storage.tables import User
from web.db import db
from web.pages.common import flash, page, see_other, signed_in
from web.pages.forms import Form, FormInvalid, apply_error, read_form

ROLE_OPTIONS = [(r.value, r.value.replace("_", " ").capitalize()) for r in Role]
SPECIALTY_OPTIONS = [(s.value, SPECIALTY_LABELS[s]) for s in Specialty]


def _admin(request: Request, session: Session) -> User:
    user = signed_in(request, session)
    if user.role is not Role.ADMIN:
        raise PermissionDenied("Only an administrator manages people.")
    return user


def _page(request: Request, session: Session, form: Form, status: int = 200) -> Response:
    return page(request, "pages/people.html", {
        "people": users.list_users(session), "form": form, "role_options": ROLE_OPTIONS,
        "specialty_options": SPECIALTY_OPTIONS}, status)


async def people(request: Request) -> Response:
    if request.method == "GET":
        with db(request) as session:
            _admin(request, session)
            return _page(request, session, Form.of({"role": "specialist"}))
    form = await read_form(request)
    try:
        with db(request) as session:
            admin = _admin(request, session)
            role = form.choice("role", Role, "role")
            specialty = form.choice("specialty", Specialty, "specialty") \
                if form.text("specialty") else None
            form.check()
            assert role is not None
            created = users.create_user(session, email=form.get("email"), name=form.get("name"),
                                        role=role, specialty=specialty,
                                        password=form.get("password"), actor_id=admin.id)
            name = created.name
    except InvalidInput as exc:
        apply_error(form, exc)
    except Conflict as exc:
        form.fail("email", exc.message)
    except FormInvalid:
        pass
    else:
        flash(request, f"{name} can now sign in.")
        return see_other("/admin/people")
    form.data.pop("password", None)  # never echo a password back into the page
    with db(request) as session:
        _admin(request, session)
        return _page(request, session, form, 422)


routes = [Route("/admin/people", people, methods=["GET", "POST"])]
