"""Case pages: create one, read one (signed in, or through a guest link), add imaging."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.cases import (
    Sex,
    TreatmentKind,
    TreatmentResponse,
    Urgency,
    check_patient_ref,
    check_text,
)
from conference.errors import (
    ArchiveUnavailable,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    gather,
)
from conference.imaging import Modality
from conference.permissions import can_edit_case, require_organiser
from conference.threads import check_body
from storage import agenda, cases, decisions, outcomes, threads, users
from storage.tables import Case
from web.api.schemas import CareEntryIn, CaseIn, CasePatch, ImagingIn, MessageIn
from web.auth import guest_link, public_base, signer
from web.db import db
from web.dicomweb import attach_study, search_archive
from web.pages.action import Posted, Refusal, Visit, action, view
from web.pages.case_view import case_page, timeline
from web.pages.common import flash, imaging_policy, page, path_id, see_other, settings_of
from web.pages.form_model import FormModel, Label, fields_of, rows_of
from web.pages.forms import BLANK_CARE_ROWS, Form
from web.templating import render

CHOICES = {
    "sex_options": [(s.value, s.value.capitalize()) for s in Sex],
    "urgency_options": [(u.value, u.value.capitalize()) for u in Urgency],
    "kind_options": [(k.value, k.value.replace("_", " ").capitalize()) for k in TreatmentKind],
    "response_options": [(r.value, r.value.capitalize()) for r in TreatmentResponse],
    "modality_options": [(m.value, m.value) for m in Modality],
}


def new_case_form() -> Form:
    return Form.of({"sex": "", "urgency": "routine", "care_rows": BLANK_CARE_ROWS})


CASE_LABELS = {
    "patient_ref": Label("The patient reference"), "age": Label("Age"),
    "sex": Label("sex", choice=True), "urgency": Label("urgency", choice=True),
    "care_history.*.kind": Label("kind of treatment", choice=True),
    "care_history.*.response": Label("response", choice=True),
    "care_history.*.started_on": Label("Started"), "care_history.*.ended_on": Label("Ended"),
    "care_history.*.description": Label("The description"),
    "requested_specialties": Label("a specialty", choice=True, required=(
        "Name at least one specialty you want an opinion from.")),
}


def case_fields(form: Form, model: type[CaseIn]) -> tuple[dict[str, Any], dict[str, str]]:
    """The case form as the API's body: treatment rows ``care-<row>-x`` become the
    ``care_history`` list (an untouched row is no treatment)."""
    data = fields_of(form, model)
    data["care_history"], names = rows_of(
        form, CareEntryIn, field="care_history", prefix="care", minimum=BLANK_CARE_ROWS,
        defaults={"response": "unknown"})
    return data, names


def typed(data: Mapping[str, Any], name: str) -> str:
    """A text field as typed ("" when the form did not send it)."""
    value = data.get(name)
    return value if isinstance(value, str) else ""


def case_rules(data: Mapping[str, Any]) -> None:
    """The case's own words, judged as typed (``conference/cases.py``), so a blank
    question shows beside a missing age rather than on the next submit."""
    care = data.get("care_history") or []
    gather(lambda: check_patient_ref(typed(data, "patient_ref")) if "patient_ref" in data
           else None,
           lambda: check_text(typed(data, "summary"), field="summary", required=True),
           lambda: check_text(typed(data, "question"), field="question", required=True),
           *(lambda i=index, row=entry: check_text(
               typed(row, "description"), field=f"care_history[{i}].description",
               required=True, limit=2000, name="The description")
             for index, entry in enumerate(care) if isinstance(entry, Mapping)))


CASE_FORM = FormModel(CaseIn, labels=CASE_LABELS, shape=lambda form: case_fields(form, CaseIn),
                      rules=case_rules)


def _new_page(visit: Visit, form: Form, status: int = 200) -> Response:
    return page(visit.request, "pages/case_new.html",
                {"form": form, "care_rows": form.rows("care", BLANK_CARE_ROWS), **CHOICES},
                status)


@view
def new_case_form_page(visit: Visit) -> Response:
    require_organiser(visit.user.role, "create a case")
    return _new_page(visit, new_case_form())


def _create(call: Posted[Any]) -> Response:
    if call.form.get("add_row"):
        return _new_page(call, call.form)
    require_organiser(call.user.role, "create a case")
    case = cases.create_case(call.session, actor=call.user,
                             details=CASE_FORM.read(call.form).to_domain())
    flash(call.request, "Case created. Add imaging links below, then put it on an agenda.")
    return see_other(f"/cases/{case.id}")


new_case = action(_create, again=lambda call, status: _new_page(call, call.form, status))


async def show(request: Request) -> Response:
    token = request.query_params.get("token")
    if token:
        return await run_in_threadpool(_guest_view, request, path_id(request), token)
    return await _show(request)


@view
def _show(visit: Visit) -> Response:
    case = cases.view_case(visit.session, viewer=visit.user, case_id=visit.id())
    return case_page(visit.request, visit.session, visit.user, case,
                     **_archive_search(visit, case))


def _archive_search(visit: Visit, case: Case) -> dict[str, Any]:
    """The image archive's search on the case page (for whoever may add the case's
    imaging: coordinators, the referring clinician; with an archive configured):
    ``?patient_id=`` or ``?study_uid=`` asks it (audited); its answer, or why it could
    not answer, is shown in the imaging section."""
    settings = settings_of(visit.request)
    assert visit.user.id is not None
    if settings.dicomweb is None or not can_edit_case(
            role=visit.user.role, user_id=visit.user.id, requested_by_id=case.requested_by_id):
        return {}
    query = visit.request.query_params
    patient_id = query.get("patient_id", "").strip()[:64]
    study_uid = query.get("study_uid", "").strip()[:64]
    found: dict[str, Any] = {"archive": {"patient_id": patient_id, "study_uid": study_uid}}
    if patient_id or study_uid:
        try:
            found["archive"]["studies"] = search_archive(
                visit.session, actor=visit.user, archive=settings.dicomweb, case_id=case.id,
                patient_id=patient_id or None, study_instance_uid=study_uid or None)
        except (ArchiveUnavailable, InvalidInput) as exc:
            found["archive"]["error"] = exc.message
    return found


def _attach_study(call: Posted[Any]) -> Response:
    settings = settings_of(call.request)
    if settings.dicomweb is None or settings.viewer is None:
        raise NotFound("No image archive is configured.")
    uid = call.form.text("study_instance_uid")
    try:
        attach_study(call.session, actor=call.user, case_id=call.id(), study_instance_uid=uid,
                     archive=settings.dicomweb, viewer=settings.viewer,
                     policy=settings.imaging_policy())
    except ArchiveUnavailable as exc:  # shown on the page, as a refusal is
        raise InvalidInput(exc.message, field="study_instance_uid") from exc
    flash(call.request, "Study attached from the image archive.")
    return see_other(f"/cases/{call.id()}#imaging")


def _guest_view(request: Request, case_id: int, token: str) -> Response:
    """A guest link opens one case, read-only, and nothing else (no navigation)."""
    with db(request) as session:
        try:
            grant = guest_link(request, session, token)
        except NotAuthenticated as exc:
            return render(request, "pages/error.html", {"error": exc, "status": 401}, 401)
        item = agenda.get_item(session, grant.item_id)
        if item.case_id != case_id or item.conference_id != grant.conference_id:
            raise NotFound(f"No case with id {case_id}.")
        case = cases.view_case_as_guest(session, case_id=case_id, guest=grant.name,
                                        item_id=grant.item_id)
        signed_revisions = decisions.history(session, grant.item_id)
        shown = signed_revisions[-1] if signed_revisions else None
        # The names the signed decision mentions (present, responsible, dissent,
        # signer): a guest reads people, never "#4".
        named = ({*shown.present_user_ids, *(d["user_id"] for d in shown.dissent),
                  shown.signed_by_id, shown.responsible_clinician_id} if shown else set())
        people = {u.id: u for u in users.list_users(session) if u.id in named}
        return page(request, "pages/case.html", {
            "case": case, "history": timeline(cases.care_history(session, case_id)),
            "imaging": cases.imaging(session, case_id), "panels": [], "guest": grant,
            "guest_decision": shown, "people": people, "may_add_imaging": False,
            "guest_room": f"/conferences/{grant.conference_id}/room?token={token}",
        })


def _case_again(call: Posted[Any], status: int, which: str) -> Response:
    case = cases.view_case(call.session, viewer=call.user, case_id=call.id())
    forms: dict[str, Any] = {which: call.form}
    return case_page(call.request, call.session, call.user, case, status=status, **forms)


def _add_imaging(call: Posted[ImagingIn]) -> Response:
    body = call.values
    cases.add_imaging(call.session, actor=call.user, case_id=call.id(), url=body.url.strip(),
                      modality=body.modality, study_date=body.study_date,
                      description=body.description, policy=imaging_policy(call.request))
    flash(call.request, "Imaging link added.")
    return see_other(f"/cases/{call.id()}#imaging")


def _add_treatment(call: Posted[CareEntryIn]) -> Response:
    """One more treatment already tried, at the end of the history of care."""
    cases.add_care_entry(call.session, actor=call.user, case_id=call.id(),
                         entry=call.values.to_domain())
    flash(call.request, "Treatment added to the history of care.")
    return see_other(f"/cases/{call.id()}#h-h")


def _edit_case(call: Posted[CasePatch]) -> Response:
    """Corrections to the question, summary and urgency, until the panel decides."""
    cases.update_case(call.session, actor=call.user, case_id=call.id(),
                      changes=call.values.changes())
    flash(call.request, "Corrections saved.")
    return see_other(f"/cases/{call.id()}")


def _check_message(body: str) -> None:
    check_body(body)


def _post_message(call: Posted[MessageIn]) -> Response:
    """A line in the case's thread, notifying the colleagues ticked."""
    threads.post(call.session, actor=call.user, case_id=call.id(), body=call.values.body,
                 mentions=call.values.mentions)
    flash(call.request, "Message posted.")
    return see_other(f"/cases/{call.id()}#thread")


def _typed_outcome(form: Form) -> dict[str, Any]:
    """The measure as typed on the case page, in the API's terms; every problem with
    what was typed on the form at once (FormInvalid)."""
    raw_date = form.text("collected_on")
    try:
        collected = date.fromisoformat(raw_date)
    except ValueError:
        form.fail("collected_on", "Give the date collected." if not raw_date
                  else "The date collected is not a date.")
        collected = date.min
    answers: list[int | None] = []
    for n in range(10):
        raw = form.text(f"a{n}")
        if raw and not (raw.isdigit() and int(raw) <= 5):
            form.fail(f"a{n}", f"Section {n + 1} is scored 0 to 5.")
        answers.append(int(raw) if raw.isdigit() else None)
    raw_score = form.text("score")
    total: Decimal | None = None
    if raw_score:
        try:
            total = Decimal(raw_score)
        except ArithmeticError:
            form.fail("score", "The score is a number.")
    form.check()
    given = any(a is not None for a in answers)
    return {"instrument": form.text("instrument"), "collected_on": collected,
            "timepoint": form.text("timepoint") or None,
            "answers": answers if given else None,
            "total": total if total is not None or given else None}


def _record_outcome(call: Posted[Any]) -> Response:
    outcomes.record(call.session, actor=call.user, case_id=call.id(),
                    **_typed_outcome(call.form))
    flash(call.request, "Outcome recorded.")
    return see_other(f"/cases/{call.id()}#outcomes")


def _outcome_link(call: Posted[Any]) -> Response:
    link = outcomes.create_link(call.session, actor=call.user, case_id=call.id(),
                                instruments=call.form.getlist("instruments"),
                                timepoint=call.form.text("timepoint") or None)
    token = signer(call.request).issue_outcome(link)
    mailed = outcomes.mail_link(call.session, actor=call.user, link=link,
                                path=f"/outcomes/{token}") \
        if call.form.get("send_to_referrer") == "on" else None
    case = cases.view_case(call.session, viewer=call.user, case_id=call.id())
    return case_page(call.request, call.session, call.user, case,
                     outcome_link=OutcomeLinkShown(
                         f"{public_base(call.request)}/outcomes/{token}", link.expires_at,
                         mailed.name if mailed else None))


@dataclass(frozen=True)
class OutcomeLinkShown:
    url: str
    expires_at: datetime
    mailed_to: str | None = None


IMAGING_LABELS = {"url": Label("The viewer link"), "modality": Label("modality", choice=True),
                  "study_date": Label("Study date"), "description": Label("The description")}
# The domain names a treatment's fields care_history[N].x; this form has them bare.
_CARE_FIELDS = {f"care_history[{n}].{name}": name for n in range(101)
                for name in ("description", "started_on", "ended_on", "notes")}

attach_from_archive = action(
    _attach_study, again=lambda call, status: _case_again(call, status, "archive_form"),
    refusal=Refusal("study_instance_uid"))
add_imaging = action(
    _add_imaging, again=lambda call, status: _case_again(call, status, "imaging_form"),
    model=FormModel(ImagingIn, labels=IMAGING_LABELS), refusal=Refusal("url"))
add_treatment = action(
    _add_treatment, again=lambda call, status: _case_again(call, status, "care_form"),
    model=FormModel(CareEntryIn, labels={
        name.partition(".*.")[2]: label for name, label in CASE_LABELS.items()
        if name.startswith("care_history")}, rules=lambda data: check_text(
            typed(data, "description"), field="description", required=True, limit=2000,
            name="The description")),
    refusal=Refusal("description", rename=_CARE_FIELDS))
record_outcome = action(
    _record_outcome, again=lambda call, status: _case_again(call, status, "outcome_form"),
    refusal=Refusal("score", rename={f"answers[{n}]": f"a{n}" for n in range(10)}))
make_outcome_link = action(
    _outcome_link, again=lambda call, status: _case_again(call, status, "outcome_link_form"),
    refusal=Refusal("instruments"))
post_message = action(
    _post_message, again=lambda call, status: _case_again(call, status, "thread_form"),
    model=FormModel(MessageIn, labels={"body": Label("The message"),
                                       "mentions": Label("mentions", choice=True)},
                    rules=lambda data: _check_message(typed(data, "body"))),
    refusal=Refusal("body"))
edit_case = action(
    _edit_case, again=lambda call, status: _case_again(call, status, "edit_form"),
    model=FormModel(CasePatch, labels=CASE_LABELS), refusal=Refusal("question"))


routes = [
    Route("/cases/new", new_case_form_page),
    Route("/cases/new", new_case, methods=["POST"]),
    Route("/cases/{id:int}", show),
    Route("/cases/{id:int}/imaging", add_imaging, methods=["POST"]),
    Route("/cases/{id:int}/imaging/archive", attach_from_archive, methods=["POST"]),
    Route("/cases/{id:int}/care-history", add_treatment, methods=["POST"]),
    Route("/cases/{id:int}/edit", edit_case, methods=["POST"]),
    Route("/cases/{id:int}/messages", post_message, methods=["POST"]),
    Route("/cases/{id:int}/outcomes", record_outcome, methods=["POST"]),
    Route("/cases/{id:int}/outcome-links", make_outcome_link, methods=["POST"]),
]
