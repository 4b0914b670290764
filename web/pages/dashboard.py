"""The signed-in person's dashboard: what each role needs to do next."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.responses import Response
from starlette.routing import Route

from conference.agenda import ItemStatus
from conference.conferences import ConferenceStatus
from conference.people import Role
from conference.permissions import is_organiser
from storage import agenda, care_loop, cases, conferences, decisions, referrals, users
from storage.tables import User
from web.pages.action import Visit, view
from web.pages.common import page
from web.pages.requests import STEPS

OPEN_ITEMS = (ItemStatus.PENDING, ItemStatus.DISCUSSING, ItemStatus.DEFERRED)


def _conferences(session: Session, user: User) -> list[dict[str, Any]]:
    """Open conferences, soonest first, each with its agenda, timing and decision states."""
    out = []
    for conf in conferences.visible_to(session, user):
        if conf.status is ConferenceStatus.CLOSED:
            continue
        items = agenda.items_for(session, viewer=user, conference_id=conf.id or 0)
        states = {}
        for item in items:
            dec = decisions.get_decision(session, item.id or 0)
            states[item.id] = dec.status.value if dec else None
        out.append({"conf": conf, "items": items, "timing": agenda.timing(session, conf),
                    "decisions": states, "chair": conf.chair_id == user.id,
                    "open": [i for i in items if i.status in OPEN_ITEMS]})
    return out


@view
def home(visit: Visit) -> Response:
    request, session, user = visit.request, visit.session, visit.user
    confs = _conferences(session, user)
    visible = {c.id: c for c in cases.visible_cases(session, viewer=user)}
    shown = {i.case_id for e in confs for i in e["items"]}
    ctx: dict[str, Any] = {"conferences": confs, "cases": visible, "steps": STEPS,
                           "organiser": is_organiser(user.role)}
    if is_organiser(user.role):
        ctx["queue"] = referrals.queue(session)
    if user.role is Role.SPECIALIST:
        ctx["to_sign"] = sum(1 for e in confs if e["chair"]
                             for state in e["decisions"].values() if state == "draft")
    if user.role is Role.REFERRING_CLINICIAN:
        ctx["requests"] = referrals.requests_of(session, viewer=user)
        shown |= {r.case_id for r in ctx["requests"]}
    cases.record_shown(session, viewer=user, case_ids=shown & set(visible), via="dashboard")
    if user.role is Role.ADMIN:
        ctx["people"] = users.list_users(session)
    ctx.update(_care_loop(session, user))
    return page(request, "pages/dashboard.html", ctx)


def _care_loop(session: Session, user: User) -> dict[str, Any]:
    """Follow-ups due (coordinators) and post-operative tasks: the person's own, and
    for coordinators everyone's that are overdue."""
    today = date.today()
    mine = care_loop.open_handoffs(session, owner_id=user.id)
    out: dict[str, Any] = {"my_handoffs": mine, "today": today}
    if is_organiser(user.role):
        out["follow_ups"] = care_loop.follow_ups(session, actor=user)
        out["overdue_handoffs"] = [h for h in care_loop.open_handoffs(session)
                                   if h.due_on < today]
        out["upcoming"] = [c for c in conferences.visible_to(session, user)
                           if c.status in (ConferenceStatus.DRAFT, ConferenceStatus.PUBLISHED)]
    ids = {h.case_id for h in mine} | {f.case_id for f in out.get("follow_ups", [])} | {
        h.case_id for h in out.get("overdue_handoffs", [])}
    out["loop_cases"] = {i: cases.get_case(session, i) for i in ids}
    return out


routes = [Route("/", home)]
