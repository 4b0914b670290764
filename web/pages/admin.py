"""Administration: the people who use Casebridge, and adding one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from starlette.responses import Response
from starlette.routing import Route

from conference.errors import PermissionDenied, gather
from conference.people import (
    SPECIALTY_LABELS,
    Role,
    Specialty,
    check_credentials,
    check_person,
    normalize_email,
)
from storage import users
from storage.tables import User
from web.api.schemas import Empty, UserIn, UserUpdateIn
from web.pages.action import Posted, Refusal, Visit, action, view
from web.pages.cases import typed
from web.pages.common import flash, page, see_other
from web.pages.form_model import FormModel, Label, fields_of
from web.pages.forms import Form

E = TypeVar("E", bound=StrEnum)
ROLE_OPTIONS = [(r.value, r.value.replace("_", " ").capitalize()) for r in Role]
SPECIALTY_OPTIONS = [(s.value, SPECIALTY_LABELS[s]) for s in Specialty]


def _admin(user: User) -> None:
    if user.role is not Role.ADMIN:
        raise PermissionDenied("Only an administrator manages people.")


def _page(visit: Visit, form: Form, status: int = 200) -> Response:
    return page(visit.request, "pages/people.html", {
        "people": users.list_users(visit.session), "form": form, "role_options": ROLE_OPTIONS,
        "specialty_options": SPECIALTY_OPTIONS}, status)


@view
def people(visit: Visit) -> Response:
    _admin(visit.user)
    return _page(visit, Form.of({"role": "specialist"}))


def _add(call: Posted[UserIn]) -> Response:
    _admin(call.user)
    body = call.values
    created = users.create_user(call.session, email=body.email, name=body.name,
                                role=body.role, specialty=body.specialty,
                                credentials=body.credentials, password=body.password,
                                actor_id=call.user.id)
    flash(call.request, f"{created.name} can now sign in.")
    return see_other("/admin/people")


def _person_page(visit: Visit, form: Form | None = None, status: int = 200) -> Response:
    person = users.get_user(visit.session, visit.id())
    if form is None:
        form = Form.of({"name": person.name, "role": person.role.value,
                        "specialty": person.specialty.value if person.specialty else "",
                        "active": "yes" if person.active else "no",
                        "credentials": person.credentials})
    return page(visit.request, "pages/person.html", {
        "person": person, "form": form, "role_options": ROLE_OPTIONS,
        "specialty_options": SPECIALTY_OPTIONS}, status)


@view
def person(visit: Visit) -> Response:
    """One person: name, role, specialty, access (active or not) and a new password."""
    _admin(visit.user)
    return _person_page(visit)


def _update(call: Posted[UserUpdateIn]) -> Response:
    _admin(call.user)
    body = call.values
    changed = users.update_user(
        call.session, actor=call.user, user_id=call.id(), name=body.name, role=body.role,
        specialty=body.specialty, active=call.form.get("active") == "yes",
        password=body.password, credentials=body.credentials)
    flash(call.request, f"Saved the changes to {changed.name}.")
    return see_other("/admin/people")


def _without_password(again: Callable[[Posted[Any], int], Response]
                      ) -> Callable[[Posted[Any], int], Response]:
    def render(call: Posted[Any], status: int) -> Response:
        call.form.data.pop("password", None)  # never echo a password back into the page
        return again(call, status)

    return render


def _sign_out_everywhere(call: Posted[Empty]) -> Response:
    _admin(call.user)
    person = users.sign_out_everywhere(call.session, actor=call.user, user_id=call.id())
    flash(call.request, f"{person.name} is signed out everywhere.")
    return see_other(f"/admin/people/{call.id()}")


def _choice(kind: type[E], value: object) -> E | None:
    return kind(value) if value in {m.value for m in kind} else None


def person_rules(data: Mapping[str, Any]) -> None:
    """The person rules on what was typed (``conference/people.py``): a bad address
    and a specialist without a specialty are said together."""
    role = _choice(Role, data.get("role"))
    gather(lambda: normalize_email(typed(data, "email")) if "email" in data else None,
           lambda: check_person(name=typed(data, "name"), role=role,
                                specialty=_choice(Specialty, data.get("specialty")))
           if role else None,
           lambda: check_credentials(typed(data, "credentials")))


LABELS = {"email": Label("An e-mail address"), "name": Label("A name"),
          "role": Label("role", choice=True), "specialty": Label("specialty", choice=True),
          "password": Label("A password", invalid="A password has at least 10 characters."),
          "credentials": Label("Credentials")}
add = action(_add, again=_without_password(lambda call, status: _page(call, call.form, status)),
             model=FormModel(UserIn, labels=LABELS, rules=person_rules), refusal=Refusal("email"))
update = action(
    _update, again=_without_password(lambda call, status: _person_page(call, call.form, status)),
    model=FormModel(UserUpdateIn, labels=LABELS, shape=lambda form: (
        {k: v for k, v in fields_of(form, UserUpdateIn).items() if k not in ("active", "password")}
        | ({"password": form.get("password")} if form.get("password") else {}), {}),
        rules=person_rules),
    refusal=Refusal("name"))


sign_out_everywhere = action(_sign_out_everywhere)

routes = [
    Route("/admin/people", people),
    Route("/admin/people", add, methods=["POST"]),
    Route("/admin/people/{id:int}", person),
    Route("/admin/people/{id:int}", update, methods=["POST"]),
    Route("/admin/people/{id:int}/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
]
