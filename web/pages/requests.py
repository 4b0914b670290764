"""Second-opinion requests: the referring clinician's form and list, the coordinator's
queue (accept, decline, schedule), each request's timeline and its decision letter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.conferences import ConferenceStatus
from conference.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from conference.imaging import check_imaging_url
from conference.people import SPECIALTY_LABELS, Role, Specialty
from conference.permissions import is_organiser, require_organiser
from conference.referrals import RequestStatus, describe_duration
from storage import agenda, cases, conferences, decisions, referrals, users
from storage.tables import SecondOpinionRequest, User
from web.db import db
from web.pages.cases import CHOICES
from web.pages.common import flash, imaging_policy, page, path_id, see_other, signed_in
from web.pages.forms import (
    BLANK_CARE_ROWS,
    BLANK_IMAGING_ROWS,
    Form,
    FormInvalid,
    apply_error,
    case_details,
    imaging_rows,
    read_form,
)

SPECIALTY_OPTIONS = [(s.value, SPECIALTY_LABELS[s]) for s in Specialty]
STEPS = [
    (RequestStatus.SUBMITTED, "submitted_at", "Submitted"),
    (RequestStatus.ACCEPTED, "accepted_at", "Accepted by the coordinator"),
    (RequestStatus.SCHEDULED, "scheduled_at", "Scheduled on a conference agenda"),
    (RequestStatus.DISCUSSED, "discussed_at", "Discussed by the panel"),
    (RequestStatus.ANSWERED, "answered_at", "Answered: decision signed"),
]


def _may_request(user: User) -> None:
    if user.role is not Role.REFERRING_CLINICIAN and not is_organiser(user.role):
        raise PermissionDenied("Only a referring clinician submits a second-opinion request.")


def _new_page(request: Request, form: Form, status: int = 200) -> Response:
    return page(request, "pages/request_new.html", {
        "form": form, "care_rows": form.rows("care", BLANK_CARE_ROWS),
        "imaging_rows": form.rows("imaging", BLANK_IMAGING_ROWS),
        "specialty_options": SPECIALTY_OPTIONS, **CHOICES}, status)


async def new_request(request: Request) -> Response:
    if request.method == "GET":
        with db(request) as session:
            _may_request(signed_in(request, session))
        return _new_page(request, Form.of({"urgency": "routine"}))
    form = await read_form(request)
    if form.get("add_row"):
        with db(request) as session:
            signed_in(request, session)
        return _new_page(request, form)
    try:
        with db(request) as session:
            request_id = _submit(request, session, form)
    except FormInvalid:
        with db(request) as session:
            signed_in(request, session)
        return _new_page(request, form, 422)
    flash(request, "Request sent. The coordinator will put it on a conference agenda; "
                   "you can follow every step here.")
    return see_other(f"/requests/{request_id}")


def _submit(request: Request, session: Session, form: Form) -> int:
    """Create the request, its case and imaging links at once, or nothing at all."""
    user = signed_in(request, session)
    _may_request(user)
    specialties = form.choices("requested_specialties", Specialty, "specialty")
    if not specialties:
        form.fail("requested_specialties", "Name at least one specialty you want an opinion from.")
    links = imaging_rows(form)
    policy = imaging_policy(request)
    for link in links:
        try:  # checked up front too, so every problem is shown at once
            check_imaging_url(link.url, allowed_hosts=policy.allowed_hosts,
                              allow_loopback_http=policy.allow_loopback_http)
        except InvalidInput as exc:
            form.fail(f"imaging-{link.row}-url", exc.message)
    details, rename = case_details(form)
    try:
        row = referrals.submit(session, actor=user, details=details,
                               requested_specialties=specialties)
    except InvalidInput as exc:
        apply_error(form, exc, rename=rename)
        raise FormInvalid() from exc
    for link in links:
        try:
            cases.add_imaging(session, actor=user, case_id=row.case_id, url=link.url,
                              modality=link.modality, study_date=link.study_date,
                              description=link.description, policy=policy)
        except InvalidInput as exc:
            form.fail(f"imaging-{link.row}-{exc.field or 'url'}", exc.message)
            raise FormInvalid() from exc
    assert row.id is not None
    return row.id


def _list_context(session: Session, user: User) -> dict[str, Any]:
    rows = referrals.requests_of(session, viewer=user)
    ctx: dict[str, Any] = {
        "rows": rows, "cases": {r.case_id: cases.get_case(session, r.case_id) for r in rows},
        "organiser": is_organiser(user.role), "people": {u.id: u for u in
                                                         users.list_users(session)},
    }
    if ctx["organiser"]:
        ctx["queue"] = referrals.queue(session)
        answered, median = referrals.turnaround_summary(session)
        ctx["turnaround"] = (answered, describe_duration(median) if median else None)
        ctx["conference_options"] = [
            (c.id, f"{c.title} · {c.starts_at:%d %b %Y %H:%M} UTC")
            for c in conferences.visible_to(session, user)
            if c.status is not ConferenceStatus.CLOSED]
    return ctx


def _list_page(request: Request, session: Session, user: User, form: Form | None = None,
               status: int = 200) -> Response:
    ctx = _list_context(session, user)
    return page(request, "pages/requests.html", {**ctx, "form": form or Form()}, status)


async def list_requests(request: Request) -> Response:
    with db(request) as session:
        user = signed_in(request, session)
        return _list_page(request, session, user)


async def accept(request: Request) -> Response:
    request_id = path_id(request)
    await read_form(request)
    with db(request) as session:
        user = signed_in(request, session)
        referrals.accept(session, actor=user, request_id=request_id)
    flash(request, f"Request #{request_id} accepted. Schedule it onto a conference next.")
    return see_other(f"/requests#request-{request_id}")


async def decline(request: Request) -> Response:
    request_id = path_id(request)
    form = await read_form(request)
    name = f"reason-{request_id}"
    form.data[name] = form.getlist("reason")
    try:
        with db(request) as session:
            user = signed_in(request, session)
            referrals.decline(session, actor=user, request_id=request_id,
                              reason=form.get(name))
    except InvalidInput as exc:
        apply_error(form, exc, rename={"reason": name})
        with db(request) as session:
            return _list_page(request, session, signed_in(request, session), form, 422)
    flash(request, f"Request #{request_id} declined; the referring clinician sees your reason.")
    return see_other("/requests")


async def schedule(request: Request) -> Response:
    request_id = path_id(request)
    form = await read_form(request)
    conf_name, minutes_name = f"conference-{request_id}", f"minutes-{request_id}"
    form.data[conf_name] = form.getlist("conference_id")
    form.data[minutes_name] = form.getlist("planned_minutes")
    try:
        with db(request) as session:
            user = signed_in(request, session)
            require_organiser(user.role, "schedule a request")
            conf_id = form.integer(conf_name, "A conference")
            minutes = form.integer(minutes_name, "Planned minutes")
            form.check()
            assert conf_id is not None and minutes is not None
            referrals.schedule(session, actor=user, request_id=request_id,
                               conference_id=conf_id, planned_minutes=minutes)
    except InvalidInput as exc:
        apply_error(form, exc, rename={"conference_id": conf_name,
                                       "planned_minutes": minutes_name,
                                       "case_id": conf_name}, fallback=conf_name)
    except Conflict as exc:
        form.fail(conf_name, exc.message)
    except FormInvalid:
        pass
    else:
        flash(request, f"Request #{request_id} is on the agenda.")
        return see_other(f"/conferences/{conf_id}#agenda")
    with db(request) as session:
        return _list_page(request, session, signed_in(request, session), form, 422)


def _timeline(row: SecondOpinionRequest) -> list[dict[str, Any]]:
    steps = [{"label": label, "at": getattr(row, stamp), "status": status}
             for status, stamp, label in STEPS]
    if row.status is RequestStatus.DECLINED:
        steps = [s for s in steps if s["at"] is not None]
        steps.append({"label": "Declined", "at": row.declined_at,
                      "status": RequestStatus.DECLINED})
    return steps


async def show(request: Request) -> Response:
    with db(request) as session:
        user = signed_in(request, session)
        row = referrals.view_request(session, viewer=user, request_id=path_id(request))
        conf, item = None, None
        if row.agenda_item_id is not None:
            item = agenda.get_item(session, row.agenda_item_id)
            conf = conferences.get_conference(session, item.conference_id)
        return page(request, "pages/request.html", {
            "row": row, "case": cases.get_case(session, row.case_id), "conf": conf,
            "item": item, "steps": _timeline(row),
            "requested_by": users.get_user(session, row.requested_by_id),
            "signed": decisions.latest_signed_for_case(session, row.case_id),
            "specialty_labels": {s.value: SPECIALTY_LABELS[s] for s in Specialty},
        })


async def letter(request: Request) -> Response:
    """The signed decision letter, laid out to print or save as PDF from the browser."""
    with db(request) as session:
        user = signed_in(request, session)
        row = referrals.view_request(session, viewer=user, request_id=path_id(request))
        latest = decisions.latest_signed_for_case(session, row.case_id)
        if latest is None:
            raise NotFound("The panel has not signed a decision on this request yet.")
        item = agenda.get_item(session, latest.agenda_item_id)
        return page(request, "pages/letter.html", {
            "row": row, "case": cases.get_case(session, row.case_id), "rev": latest,
            "revisions": decisions.history(session, latest.agenda_item_id),
            "conf": conferences.get_conference(session, item.conference_id),
            "people": {u.id: u for u in users.list_users(session)},
            "requested_by": users.get_user(session, row.requested_by_id),
            "printed_at": datetime.now().astimezone(),
        })


routes = [
    Route("/requests", list_requests),
    Route("/requests/new", new_request, methods=["GET", "POST"]),
    Route("/requests/{id:int}", show),
    Route("/requests/{id:int}/letter", letter),
    Route("/requests/{id:int}/accept", accept, methods=["POST"]),
    Route("/requests/{id:int}/decline", decline, methods=["POST"]),
    Route("/requests/{id:int}/schedule", schedule, methods=["POST"]),
]
