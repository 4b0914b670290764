"""People: admins manage them; coordinators list them to pick conference members."""

from __future__ import annotations

from conference.errors import PermissionDenied
from conference.people import Role
from conference.permissions import require_organiser
from storage import users
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, UserIn, UserUpdateIn
from web.api.views import UserView


def list_users(call: Call[Empty]) -> list[UserView]:
    require_organiser(call.user.role, "list people")
    return [UserView.model_validate(u) for u in users.list_users(call.session)]


def me(call: Call[Empty]) -> UserView:
    return UserView.model_validate(call.user)


def create_user(call: Call[UserIn]) -> UserView:
    if call.user.role is not Role.ADMIN:
        raise PermissionDenied("Only an administrator adds people.")
    body = call.body
    user = users.create_user(call.session, email=body.email, name=body.name, role=body.role,
                             specialty=body.specialty, password=body.password,
                             credentials=body.credentials, actor_id=call.user.id)
    return UserView.model_validate(user)


def update_user(call: Call[UserUpdateIn]) -> UserView:
    body = call.body
    sent = body.model_fields_set
    user = users.update_user(
        call.session, actor=call.user, user_id=call.id(), name=body.name, role=body.role,
        active=body.active, password=body.password, credentials=body.credentials,
        specialty=body.specialty if "specialty" in sent else users.UNCHANGED,
    )
    return UserView.model_validate(user)


def sign_out_everywhere(call: Call[Empty]) -> UserView:
    """End every session and token of the person (an admin for anyone)."""
    user = users.sign_out_everywhere(call.session, actor=call.user, user_id=call.id())
    return UserView.model_validate(user)


def sign_myself_out_everywhere(call: Call[Empty]) -> UserView:
    assert call.user.id is not None
    user = users.sign_out_everywhere(call.session, actor=call.user, user_id=call.user.id)
    return UserView.model_validate(user)


routes = [
    operation("GET", "/users", list_users, body=Empty, summary="Everyone (coordinators, admins)",
              tag="users", response=UserView, many=True),
    operation("POST", "/users", create_user, body=UserIn, summary="Add a person (admins)",
              tag="users", response=UserView, status=201),
    operation("PATCH", "/users/{id:int}", update_user, body=UserUpdateIn,
              summary="Change a person's name, role, specialty, access, password or credentials "
                      "(admins)",
              tag="users", response=UserView),
    operation("GET", "/users/me", me, body=Empty, summary="Who is signed in", tag="users",
              response=UserView),
    operation("POST", "/users/{id:int}/sign-out-everywhere", sign_out_everywhere, body=Empty,
              optional_body=True, tag="users", response=UserView,
              summary="End every session and API token of a person (admins, or oneself)"),
    operation("POST", "/auth/sign-out-everywhere", sign_myself_out_everywhere, body=Empty,
              optional_body=True, tag="auth", response=UserView,
              summary="End every session and API token of the caller"),
]
