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
from web.pages.common import flash, page, path_id, see_other, signed_in
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


def _person_page(request: Request, session: Session, person_id: int, form: Form | None = None,
                 status: int = 200) -> Response:
    person = users.get_user(session, person_id)
    if form is None:
        form = Form.of({"name": person.name, "role": person.role.value,
                        "specialty": person.specialty.value if person.specialty else "",
                        "active": "yes" if person.active else "no"})
    return page(request, "pages/person.html", {
        "person": person, "form": form, "role_options": ROLE_OPTIONS,
        "specialty_options": SPECIALTY_OPTIONS}, status)


async def person(request: Request) -> Response:
    """One person: name, role, specialty, access (active or not) and a new password."""
    person_id = path_id(request)
    if request.method == "GET":
        with db(request) as session:
            _admin(request, session)
            return _person_page(request, session, person_id)
    form = await read_form(request)
    try:
        with db(request) as session:
            admin = _admin(request, session)
            role = form.choice("role", Role, "role")
            specialty = form.choice("specialty", Specialty, "specialty") \
                if form.text("specialty") else None
            form.check()
            changed = users.update_user(
                session, actor=admin, user_id=person_id, name=form.get("name"), role=role,
                specialty=specialty, active=form.get("active") == "yes",
                password=form.get("password") or None)
            name = changed.name
    except InvalidInput as exc:
        apply_error(form, exc)
    except FormInvalid:
        pass
    else:
        flash(request, f"Saved the changes to {name}.")
        return see_other("/admin/people")
    form.data.pop("password", None)  # never echo a password back into the page
    with db(request) as session:
        _admin(request, session)
        return _person_page(request, session, person_id, form, 422)


routes = [
    Route("/admin/people", people, methods=["GET", "POST"]),
    Route("/admin/people/{id:int}", person, methods=["GET", "POST"]),
]
