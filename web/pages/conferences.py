"""Conference pages: schedule one, and its page of members, agenda and status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference import guest_links as link_rules
from conference.conferences import CONFERENCE_TRANSITIONS, ConferenceStatus
from conference.decision import DecisionStatus
from conference.errors import Conflict
from conference.people import SPECIALTY_LABELS, Role
from conference.permissions import is_organiser, may_change_status, require_organiser, sees_agenda
from conference.quorum import describe_rule
from storage import agenda, cases, conferences, decisions, guest_links, users
from storage.clock import utcnow
from storage.tables import User
from web.api.schemas import ConferenceIn, ConferenceStatusIn, MemberIn
from web.auth import public_base
from web.pages.action import Posted, Refusal, Visit, action, view
from web.pages.common import flash, page, see_other, visible_conference
from web.pages.form_model import FormModel, Label, fields_of
from web.pages.forms import Form

DEFAULT_ZONE = "America/Chicago"
ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
STATUS_ACTIONS = {
    (ConferenceStatus.DRAFT, ConferenceStatus.PUBLISHED): "Publish the agenda",
    (ConferenceStatus.PUBLISHED, ConferenceStatus.DRAFT): "Unpublish (back to draft)",
    (ConferenceStatus.PUBLISHED, ConferenceStatus.CLOSED): "Cancel the conference",
    (ConferenceStatus.LIVE, ConferenceStatus.CLOSED): "End meeting",
}


def _chairs(session: Session) -> list[User]:
    return [u for u in users.list_users(session) if u.role is Role.SPECIALIST and u.active]


def _new_page(visit: Visit, form: Form, status: int = 200) -> Response:
    chairs = [(u.id, f"{u.name} · {SPECIALTY_LABELS[u.specialty]}" if u.specialty else u.name)
              for u in _chairs(visit.session)]
    zones = [(z, z.replace("_", " ")) for z in ZONES]
    return page(visit.request, "pages/conference_new.html",
                {"form": form, "zone_options": zones, "chair_options": chairs}, status)


@view
def new_conference_form(visit: Visit) -> Response:
    require_organiser(visit.user.role, "create a conference")
    return _new_page(visit, Form.of({"timezone": DEFAULT_ZONE, "duration_minutes": 90}))


def _conference_fields(form: Form) -> tuple[dict[str, Any], dict[str, str]]:
    data = fields_of(form, ConferenceIn)
    starts_at = _starts_at(form)
    if starts_at is not None:
        data["starts_at"] = starts_at.isoformat()
    return data, {"starts_at": "starts_local"}


def _create(call: Posted[ConferenceIn]) -> Response:
    body = call.values
    conf = conferences.create_conference(
        call.session, actor=call.user, title=body.title, starts_at=body.starts_at,
        duration_minutes=body.duration_minutes, chair_id=body.chair_id)
    return see_other(f"/conferences/{conf.id}")


create = action(
    _create, again=lambda call, status: _new_page(call, call.form, status),
    model=FormModel(ConferenceIn, shape=_conference_fields, labels={
        "title": Label("A title"), "duration_minutes": Label("The length"),
        "chair_id": Label("a chair", choice=True), "starts_at": Label("The start")}),
    refusal=Refusal("title", rename={"starts_at": "starts_local"}))


def _starts_at(form: Form) -> datetime | None:
    """A local date and time plus an IANA zone make an aware start time (an unknown
    zone is marked on the form; the time is then read as UTC, only to go on checking)."""
    try:
        zone = ZoneInfo(form.text("timezone"))
    except (ZoneInfoNotFoundError, ValueError):
        form.fail("timezone", "Choose the time zone the conference is held in.")
        zone = ZoneInfo("UTC")
    raw = form.text("starts_local")
    if not raw:
        form.fail("starts_local", "The start date and time are required.")
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        form.fail("starts_local", "Give the start as a date and time, e.g. 2026-12-01 07:30.")
        return None
    return local.replace(tzinfo=zone)


def conference_context(session: Session, user: User, conference_id: int) -> dict[str, Any]:
    """Everything the conference page shows, for this person."""
    conf = visible_conference(session, user, conference_id)
    assert user.id is not None and conf.id is not None
    members = conferences.members(session, conference_id)
    items = agenda.items_for(session, viewer=user, conference_id=conference_id)
    everything = agenda.items(session, conference_id)
    case_ids = [i.case_id for i in items]
    by_case = {c.id: c for c in (cases.get_case(session, cid) for cid in case_ids)}
    cases.record_shown(session, viewer=user, case_ids=case_ids, via="conference")
    # Each item's planned time counts every item before it, shown or not.
    start_of, clock = {}, conf.starts_at
    for item in everything:
        start_of[item.id] = clock
        clock = clock + timedelta(minutes=item.planned_minutes)
    starts = [start_of[i.id] for i in items]
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
        "whole_agenda": len(items) == len(everything) and sees_agenda(
            role=user.role, conference_role=conferences.role_in(
                session, conference_id=conference_id, user_id=user.id)),
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
        now = utcnow()
        ctx["item_cases"] = {i.id: by_case.get(i.case_id) for i in items}
        ctx["guest_links"] = [
            (link, link_rules.state(expires_at=link.expires_at, revoked_at=link.revoked_at,
                                    now=now))
            for link in guest_links.links_for(session, conf.id)]
    if may_change_status(role=user.role, is_chair=user.id == conf.chair_id):
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


@view
def show(visit: Visit) -> Response:
    return conference_page(visit.request, visit.session, visit.user, visit.id())


def again(call: Posted[Any], status: int) -> Response:
    """The conference page once more, with the form as typed and what went wrong."""
    return conference_page(call.request, call.session, call.user, call.id(), call.form,
                           status, **call.extra)


def _invite(call: Posted[MemberIn]) -> Response:
    body = call.values
    conferences.add_member(call.session, actor=call.user, conference_id=call.id(),
                           user_id=body.user_id, conference_role=body.conference_role,
                           base_url=public_base(call.request))
    flash(call.request, f"{users.get_user(call.session, body.user_id).name} "
                        "is now on this conference.")
    return see_other(f"/conferences/{call.id()}#members")


invite = action(_invite, again=again, refusal=Refusal("user_id"), model=FormModel(
    MemberIn, labels={"user_id": Label("the person", choice=True),
                      "conference_role": Label("conference role", choice=True)}))


def _change_status(call: Posted[ConferenceStatusIn]) -> Response:
    visible_conference(call.session, call.user, call.id())
    target = call.values.status
    previous = visible_conference(call.session, call.user, call.id()).status
    conferences.set_status(call.session, actor=call.user, conference_id=call.id(),
                           status=target, base_url=public_base(call.request),
                           live_window=call.request.app.state.settings.live_window)
    ended = previous is ConferenceStatus.LIVE and target is ConferenceStatus.CLOSED
    flash(call.request, "The meeting has ended; the room is closed." if ended
          else f"The conference is now {target.value}.")
    return see_other(f"/conferences/{call.id()}")


def _end_meeting(call: Posted[Any]) -> Response:
    """The chair's "End meeting" in the room: only ever closes a live conference (a
    conference not yet live is cancelled from its page, deliberately)."""
    conf = visible_conference(call.session, call.user, call.id())
    if conf.status is not ConferenceStatus.LIVE:
        raise Conflict("This meeting is not live, so there is nothing to end.",
                       code="meeting_not_live")
    conferences.set_status(call.session, actor=call.user, conference_id=call.id(),
                           status=ConferenceStatus.CLOSED)
    flash(call.request, "The meeting has ended; the room is closed.")
    return see_other(f"/conferences/{call.id()}")


end_meeting = action(_end_meeting)
change_status = action(_change_status, model=FormModel(
    ConferenceStatusIn, labels={"status": Label("a status", choice=True)}))


routes = [
    Route("/conferences/new", new_conference_form),
    Route("/conferences/new", create, methods=["POST"]),
    Route("/conferences/{id:int}", show),
    Route("/conferences/{id:int}/members", invite, methods=["POST"]),
    Route("/conferences/{id:int}/status", change_status, methods=["POST"]),
    Route("/conferences/{id:int}/end", end_meeting, methods=["POST"]),
]
