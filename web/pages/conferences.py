"""Conference pages: schedule one, and its page of members, agenda and status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.conferences import CONFERENCE_TRANSITIONS, ConferenceStatus
from conference.decision import DecisionStatus
from conference.errors import Conflict, InvalidInput
from conference.people import SPECIALTY_LABELS, ConferenceRole, Role
from conference.permissions import is_organiser, require_organiser
from conference.quorum import describe_rule
from storage import agenda, cases, conferences, decisions, users
from storage.tables import User
from web.db import db
from web.pages.common import flash, page, path_id, see_other, signed_in, visible_conference
from web.pages.forms import Form, FormInvalid, apply_error, read_form

DEFAULT_ZONE = "America/Chicago"
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
STATUS_ACTIONS = {
    (ConferenceStatus.DRAFT, ConferenceStatus.PUBLISHED): "Publish the agenda",
    (ConferenceStatus.PUBLISHED, ConferenceStatus.DRAFT): "Unpublish (back to draft)",
    (ConferenceStatus.PUBLISHED, ConferenceStatus.CLOSED): "Cancel the conference",
    (ConferenceStatus.LIVE, ConferenceStatus.CLOSED): "Close the conference",
}


def _chairs(session: Session) -> list[User]:
    return [u for u in users.list_users(session) if u.role is Role.SPECIALIST and u.active]


def _new_page(request: Request, session: Session, form: Form, status: int = 200) -> Response:
    chairs = [(u.id, f"{u.name} · {SPECIALTY_LABELS[u.specialty]}" if u.specialty else u.name)
              for u in _chairs(session)]
    zones = [(z, z.replace("_", " ")) for z in ZONES]
    return page(request, "pages/conference_new.html",
                {"form": form, "zone_options": zones, "chair_options": chairs}, status)


async def new_conference(request: Request) -> Response:
    if request.method == "GET":
        with db(request) as session:
            user = signed_in(request, session)
            require_organiser(user.role, "create a conference")
            form = Form.of({"timezone": DEFAULT_ZONE, "duration_minutes": 90})
            return _new_page(request, session, form)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            starts_at = _starts_at(form)
            duration = form.integer("duration_minutes", "The length")
            chair_id = form.integer("chair_id", "A chair")
            form.check()
            assert starts_at is not None and duration is not None and chair_id is not None
            conf = conferences.create_conference(
                session, actor=user, title=form.get("title"), starts_at=starts_at,
                duration_minutes=duration, chair_id=chair_id)
            conf_id = conf.id
    except InvalidInput as exc:
        apply_error(form, exc, rename={"starts_at": "starts_local"})
    except FormInvalid:
        pass
    else:
        return see_other(f"/conferences/{conf_id}")
    with db(request) as session:
        signed_in(request, session)
        return _new_page(request, session, form, 422)


def _starts_at(form: Form) -> datetime | None:
    """A local date and time plus an IANA zone make an aware start time."""
    try:
        zone = ZoneInfo(form.text("timezone"))
    except (ZoneInfoNotFoundError, ValueError):
        form.fail("timezone", "Choose the time zone the conference is held in.")
        zone = None
    raw = form.text("starts_local")
    if not raw:
        form.fail("starts_local", "The start date and time are required.")
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        form.fail("starts_local", "Give the start as a date and time, e.g. 2026-12-01 07:30.")
        return None
    return local.replace(tzinfo=zone) if zone else None


def conference_context(session: Session, user: User, conference_id: int) -> dict[str, Any]:
    """Everything the conference page shows, for this person."""
    conf = visible_conference(session, user, conference_id)
    assert user.id is not None and conf.id is not None
    members = conferences.members(session, conference_id)
    items = agenda.items(session, conference_id)
    case_ids = [i.case_id for i in items]
    by_case = {c.id: c for c in (cases.get_case(session, cid) for cid in case_ids)}
    starts, clock = [], conf.starts_at
    for item in items:
        starts.append(clock)
        clock = clock + timedelta(minutes=item.planned_minutes)
    drafts = {i.id: decisions.get_decision(session, i.id or 0) for i in items}
    organiser = is_organiser(user.role)
    ctx: dict[str, Any] = {
        "conf": conf, "members": members, "rows": list(zip(items, starts, strict=True)),
        "cases": by_case, "timing": agenda.timing(session, conf), "ends_at": clock,
        "decisions": {k: v.status if v else None for k, v in drafts.items()},
        "signed": DecisionStatus.SIGNED,
        "my_role": conferences.role_in(session, conference_id=conference_id, user_id=user.id),
        "organiser": organiser, "is_chair": user.id == conf.chair_id,
        "quorum": describe_rule(conferences.quorum_rule(conf)),
    }
    if organiser:
        on_agenda = set(case_ids)
        member_ids = {m.user_id for m, _ in members}
        ctx["addable_options"] = [
            (c.id, f"{c.patient_ref} · {c.age} · {c.urgency.value} · {c.question[:70]}")
            for c in cases.visible_cases(session, viewer=user) if c.id not in on_agenda]
        ctx["invitable_options"] = [
            (u.id, f"{u.name} · {SPECIALTY_LABELS[u.specialty] if u.specialty else u.role.value}")
            for u in users.list_users(session) if u.id not in member_ids and u.active]
    if organiser or user.id == conf.chair_id:
        ctx["status_actions"] = [(target, text) for (source, target), text
                                 in STATUS_ACTIONS.items()
                                 if source is conf.status
                                 and target in CONFERENCE_TRANSITIONS[conf.status]]
    return ctx


def conference_page(request: Request, session: Session, user: User, conference_id: int,
                    form: Form | None = None, status: int = 200,
                    **extra: Any) -> Response:
    ctx = conference_context(session, user, conference_id)
    ctx.update(form=form or Form(), **extra)
    return page(request, "pages/conference.html", ctx, status)


async def show(request: Request) -> Response:
    with db(request) as session:
        user = signed_in(request, session)
        return conference_page(request, session, user, path_id(request))


async def invite(request: Request) -> Response:
    conf_id = path_id(request)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            person_id = form.integer("user_id", "The person")
            role = form.choice("conference_role", ConferenceRole, "conference role")
            form.check()
            assert person_id is not None and role is not None
            conferences.add_member(session, actor=user, conference_id=conf_id,
                                   user_id=person_id, conference_role=role)
            who = users.get_user(session, person_id).name
    except InvalidInput as exc:
        apply_error(form, exc)
    except Conflict as exc:
        form.fail("user_id", exc.message)
    except FormInvalid:
        pass
    else:
        flash(request, f"{who} is now on this conference.")
        return see_other(f"/conferences/{conf_id}#members")
    with db(request) as session:
        user = signed_in(request, session)
        return conference_page(request, session, user, conf_id, form, 422)


async def change_status(request: Request) -> Response:
    conf_id = path_id(request)
    form = await read_form(request)
    with db(request) as session:
        user = signed_in(request, session)
        visible_conference(session, user, conf_id)
        target = form.choice("status", ConferenceStatus, "status")
        if target is None:
            raise InvalidInput("Choose a status.", field="status")
        conferences.set_status(session, actor=user, conference_id=conf_id, status=target)
    flash(request, f"The conference is now {target.value}.")
    return see_other(f"/conferences/{conf_id}")


routes = [
    Route("/conferences/new", new_conference, methods=["GET", "POST"]),
    Route("/conferences/{id:int}", show),
    Route("/conferences/{id:int}/members", invite, methods=["POST"]),
    Route("/conferences/{id:int}/status", change_status, methods=["POST"]),
]
