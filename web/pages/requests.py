"""Second-opinion requests: the referring clinician's form and list, the coordinator's
queue (accept, decline, schedule), each request's timeline and its decision letter."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlmodel import Session
from starlette.responses import Response
from starlette.routing import Route

from conference.conferences import ConferenceStatus
from conference.errors import InvalidInput, NotFound, PermissionDenied, gather
from conference.imaging import check_imaging_url
from conference.people import SPECIALTY_LABELS, Role, Specialty
from conference.permissions import is_organiser, require_organiser
from conference.referrals import (
    RequestStatus,
    check_referrer_patient_id,
    describe_duration,
    letter_id,
)
from storage import agenda, cases, conferences, decisions, referrals, users
from storage.tables import Case, SecondOpinionRequest, User
from web.api.schemas import DeclineIn, Empty, ImagingIn, RequestIn, ScheduleIn
from web.pages.action import Posted, Refusal, Visit, action, view
from web.pages.agenda import MINUTES
from web.pages.case_view import timeline
from web.pages.cases import CASE_LABELS, CHOICES, IMAGING_LABELS, case_fields, case_rules, typed
from web.pages.common import flash, imaging_policy, page, see_other, settings_of
from web.pages.form_model import FormModel, Label, rows_of
from web.pages.forms import BLANK_CARE_ROWS, BLANK_IMAGING_ROWS, Form
from web.pdf import pdf_of

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


class RequestForm(RequestIn):
    """The request page's form: the API's request and its imaging links at once."""

    imaging: Annotated[list[ImagingIn], Field(max_length=100)] = []


def _request_fields(form: Form) -> tuple[dict[str, Any], dict[str, str]]:
    data, names = case_fields(form, RequestForm)
    data["imaging"], more = rows_of(form, ImagingIn, field="imaging", prefix="imaging",
                                    minimum=BLANK_IMAGING_ROWS, defaults={"modality": "MR"})
    return data, names | more


REQUEST_FORM = FormModel(RequestForm, labels={
    **CASE_LABELS, **{f"imaging.*.{name}": label for name, label in IMAGING_LABELS.items()},
    "imaging.*.url": Label("The viewer link",
                           required="Paste the viewer link for this study."),
    "referrer_patient_id": Label("Your patient identifier")},
    shape=_request_fields, rules=lambda data: gather(
        lambda: case_rules(data),
        lambda: check_referrer_patient_id(typed(data, "referrer_patient_id"))))


def _new_page(visit: Visit, form: Form, status: int = 200) -> Response:
    return page(visit.request, "pages/request_new.html", {
        "form": form, "care_rows": form.rows("care", BLANK_CARE_ROWS),
        "imaging_rows": form.rows("imaging", BLANK_IMAGING_ROWS),
        "specialty_options": SPECIALTY_OPTIONS, **CHOICES}, status)


@view
def new_request_form(visit: Visit) -> Response:
    _may_request(visit.user)
    return _new_page(visit, Form.of({"urgency": "routine"}))


def _submit(call: Posted[Any]) -> Response:
    """Create the request, its case and imaging links at once, or nothing at all."""
    if call.form.get("add_row"):
        return _new_page(call, call.form)
    _may_request(call.user)
    policy = imaging_policy(call.request)
    for n in range(call.form.rows("imaging", BLANK_IMAGING_ROWS)):
        url = call.form.text(f"imaging-{n}-url")
        try:  # checked before the rest, so every problem is shown at once
            if url:
                check_imaging_url(url, allowed_hosts=policy.allowed_hosts,
                                  allow_loopback_http=policy.allow_loopback_http)
        except InvalidInput as exc:
            call.form.fail(f"imaging-{n}-url", exc.message)
    body = REQUEST_FORM.read(call.form)
    row = referrals.submit(call.session, actor=call.user, details=body.to_domain(),
                           requested_specialties=body.requested_specialties,
                           referrer_patient_id=body.referrer_patient_id)
    for n, link in enumerate(body.imaging):
        try:
            cases.add_imaging(call.session, actor=call.user, case_id=row.case_id,
                              url=link.url.strip(), modality=link.modality,
                              study_date=link.study_date, description=link.description,
                              policy=policy)
        except InvalidInput as exc:
            call.form.fail(call.form.aliases[f"imaging.{n}.{exc.field or 'url'}"], exc.message)
            raise
    flash(call.request, "Request sent. The coordinator will put it on a conference agenda; "
                        "you can follow every step here.")
    return see_other(f"/requests/{row.id}")


new_request = action(_submit, again=lambda call, status: _new_page(call, call.form, status))


def _list_context(session: Session, user: User) -> dict[str, Any]:
    rows = referrals.requests_of(session, viewer=user)
    ctx: dict[str, Any] = {
        "rows": rows, "cases": {r.case_id: cases.get_case(session, r.case_id) for r in rows},
        "organiser": is_organiser(user.role), "people": {u.id: u for u in
                                                         users.list_users(session)},
    }
    shown = {r.case_id for r in rows}
    if ctx["organiser"]:
        ctx["queue"] = referrals.queue(session)
        ctx["cases"] |= {r.case_id: cases.get_case(session, r.case_id) for r in ctx["queue"]}
        shown |= {r.case_id for r in ctx["queue"]}
    cases.record_shown(session, viewer=user, case_ids=shown, via="requests")
    if ctx["organiser"]:
        answered, median = referrals.turnaround_summary(session)
        ctx["turnaround"] = (answered, describe_duration(median) if median else None)
        ctx["conference_options"] = [
            (c.id, f"{c.title} · {c.starts_at:%d %b %Y %H:%M} UTC")
            for c in conferences.visible_to(session, user)
            if c.status is not ConferenceStatus.CLOSED]
    return ctx


def _list_page(visit: Visit, form: Form | None = None, status: int = 200) -> Response:
    ctx = _list_context(visit.session, visit.user)
    return page(visit.request, "pages/requests.html", {**ctx, "form": form or Form()}, status)


@view
def list_requests(visit: Visit) -> Response:
    return _list_page(visit)


def _again(call: Posted[Any], status: int) -> Response:
    return _list_page(call, call.form, status)


def _accept(call: Posted[Empty]) -> Response:
    referrals.accept(call.session, actor=call.user, request_id=call.id())
    flash(call.request, f"Request #{call.id()} accepted. Schedule it onto a conference next.")
    return see_other(f"/requests#request-{call.id()}")


def _decline(call: Posted[DeclineIn]) -> Response:
    referrals.decline(call.session, actor=call.user, request_id=call.id(),
                      reason=call.values.reason)
    flash(call.request, f"Request #{call.id()} declined; the referring clinician sees your "
                        "reason.")
    return see_other("/requests")


def _schedule(call: Posted[ScheduleIn]) -> Response:
    require_organiser(call.user.role, "schedule a request")
    referrals.schedule(call.session, actor=call.user, request_id=call.id(),
                       conference_id=call.values.conference_id,
                       planned_minutes=call.values.planned_minutes)
    flash(call.request, f"Request #{call.id()} is on the agenda.")
    return see_other(f"/conferences/{call.values.conference_id}#agenda")


accept = action(_accept)
decline = action(_decline, again=_again, refusal=Refusal("reason"),
                 model=FormModel(DeclineIn, labels={"reason": Label("A reason")}),
                 field_names=lambda call: {"reason": f"reason-{call.id()}"})
schedule = action(
    _schedule, again=_again, refusal=Refusal("conference_id", rename={"case_id": "conference_id"}),
    model=FormModel(ScheduleIn, labels={"conference_id": Label("A conference"),
                                        "planned_minutes": MINUTES}),
    field_names=lambda call: {"conference_id": f"conference-{call.id()}",
                              "planned_minutes": f"minutes-{call.id()}"})


def _timeline(row: SecondOpinionRequest) -> list[dict[str, Any]]:
    steps = [{"label": label, "at": getattr(row, stamp), "status": status}
             for status, stamp, label in STEPS]
    if row.status is RequestStatus.DECLINED:
        steps = [s for s in steps if s["at"] is not None]
        steps.append({"label": "Declined", "at": row.declined_at,
                      "status": RequestStatus.DECLINED})
    return steps


def _shown(session: Session, user: User, case_id: int, via: str) -> Case:
    """The request's case, its view audited (the request rule let the person in)."""
    cases.record_shown(session, viewer=user, case_ids=[case_id], via=via)
    return cases.get_case(session, case_id)


@view
def show(visit: Visit) -> Response:
    request, session, user = visit.request, visit.session, visit.user
    row = referrals.view_request(session, viewer=user, request_id=visit.id())
    conf, item = None, None
    if row.agenda_item_id is not None:
        item = agenda.get_item(session, row.agenda_item_id)
        conf = conferences.get_conference(session, item.conference_id)
    return page(request, "pages/request.html", {
        "row": row, "case": _shown(session, user, row.case_id, "request"), "conf": conf,
        "item": item, "steps": _timeline(row),
        "requested_by": users.get_user(session, row.requested_by_id),
        "signed": decisions.latest_signed_for_case(session, row.case_id),
        "specialty_labels": {s.value: SPECIALTY_LABELS[s] for s in Specialty},
    })


def _letter(visit: Visit, *, pdf: bool) -> Response:
    """The latest signed decision on the request, as the letter the referrer files."""
    request, session, user = visit.request, visit.session, visit.user
    row = referrals.view_request(session, viewer=user, request_id=visit.id())
    latest = decisions.latest_signed_for_case(session, row.case_id)
    if latest is None:
        raise NotFound("The panel has not signed a decision on this request yet.")
    assert row.id is not None
    item = agenda.get_item(session, latest.agenda_item_id)
    case = _shown(session, user, row.case_id, "letter.pdf" if pdf else "letter")
    reference = letter_id(row.id, latest.revision)
    html = page(request, "pages/letter.html", {
        "row": row, "case": case, "rev": latest, "letter_id": reference, "pdf": pdf,
        "revisions": decisions.history(session, latest.agenda_item_id),
        "conf": conferences.get_conference(session, item.conference_id),
        "people": {u.id: u for u in users.list_users(session)},
        "requested_by": users.get_user(session, row.requested_by_id),
        "history": timeline(cases.care_history(session, row.case_id)),
        # What the panel had before it: the studies linked by the time it signed.
        "imaging": [i for i in cases.imaging(session, row.case_id)
                    if i.added_at <= latest.signed_at],
        "institution": settings_of(request).institution,
        "printed_at": datetime.now().astimezone(),
    })
    if not pdf:
        return html
    return Response(pdf_of(bytes(html.body).decode()), media_type="application/pdf", headers={
        "content-disposition": f'inline; filename="{reference}.pdf"',
        "cache-control": "no-store"})


@view
def letter(visit: Visit) -> Response:
    """The signed decision letter, laid out to print from the browser."""
    return _letter(visit, pdf=False)


@view
def letter_pdf(visit: Visit) -> Response:
    """The same letter as a PDF document, made on the server."""
    return _letter(visit, pdf=True)


routes = [
    Route("/requests", list_requests),
    Route("/requests/new", new_request_form),
    Route("/requests/new", new_request, methods=["POST"]),
    Route("/requests/{id:int}", show),
    Route("/requests/{id:int}/letter", letter),
    Route("/requests/{id:int}/letter.pdf", letter_pdf),
    Route("/requests/{id:int}/accept", accept, methods=["POST"]),
    Route("/requests/{id:int}/decline", decline, methods=["POST"]),
    Route("/requests/{id:int}/schedule", schedule, methods=["POST"]),
]
