"""Case pages: create one, read one (signed in, or through a guest link), add imaging."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.audit import AuditAction, Entity
from conference.cases import CareEntry, Sex, TreatmentKind, TreatmentResponse, Urgency
from conference.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from conference.imaging import Modality
from conference.permissions import require_organiser
from storage import agenda, audit, cases, decisions
from web.auth import signer
from web.db import db
from web.pages.case_view import case_page, timeline
from web.pages.common import flash, imaging_policy, page, path_id, see_other, signed_in
from web.pages.forms import (
    BLANK_CARE_ROWS,
    Form,
    FormInvalid,
    apply_error,
    case_details,
    read_form,
)
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


def _new_page(request: Request, form: Form, status: int = 200) -> Response:
    return page(request, "pages/case_new.html",
                {"form": form, "care_rows": form.rows("care", BLANK_CARE_ROWS), **CHOICES},
                status)


async def new_case(request: Request) -> Response:
    if request.method == "GET":
        with db(request) as session:
            user = signed_in(request, session)
            require_organiser(user.role, "create a case")
        return _new_page(request, new_case_form())
    form = await read_form(request)
    if form.get("add_row"):
        with db(request) as session:
            signed_in(request, session)
        return _new_page(request, form)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            require_organiser(user.role, "create a case")
            details, rename = case_details(form)
            try:
                case = cases.create_case(session, actor=user, details=details)
            except InvalidInput as exc:
                apply_error(form, exc, rename=rename)
                raise FormInvalid() from exc
            case_id = case.id
    except FormInvalid:
        with db(request) as session:
            signed_in(request, session)
        return _new_page(request, form, 422)
    flash(request, "Case created. Add imaging links below, then put it on an agenda.")
    return see_other(f"/cases/{case_id}")


async def show(request: Request) -> Response:
    case_id = path_id(request)
    token = request.query_params.get("token")
    if token:
        return _guest_view(request, case_id, token)
    with db(request) as session:
        user = signed_in(request, session)
        case = cases.view_case(session, viewer=user, case_id=case_id)
        return case_page(request, session, user, case)


def _guest_view(request: Request, case_id: int, token: str) -> Response:
    """A guest link opens one case, read-only, and nothing else (no navigation)."""
    try:
        grant = signer(request).read_guest(token)
    except NotAuthenticated as exc:
        return render(request, "pages/error.html", {"error": exc, "status": 401}, 401)
    with db(request) as session:
        item = agenda.get_item(session, grant.item_id)
        if item.case_id != case_id or item.conference_id != grant.conference_id:
            raise NotFound(f"No case with id {case_id}.")
        case = cases.get_case(session, case_id)
        audit.record(session, actor_id=None, action=AuditAction.VIEWED, entity=Entity.CASE,
                     entity_id=case_id, case_id=case_id,
                     detail={"guest": grant.name, "item_id": item.id})
        signed_revisions = decisions.history(session, grant.item_id)
        return page(request, "pages/case.html", {
            "case": case, "history": timeline(cases.care_history(session, case_id)),
            "imaging": cases.imaging(session, case_id), "panels": [], "guest": grant,
            "guest_decision": signed_revisions[-1] if signed_revisions else None,
            "people": {}, "may_add_imaging": False,
            "guest_room": f"/conferences/{grant.conference_id}/room?token={token}",
        })


async def add_imaging(request: Request) -> Response:
    case_id = path_id(request)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            modality = form.choice("modality", Modality, "modality")
            study_date = form.day("study_date", "Study date")
            form.check()
            assert modality is not None
            cases.add_imaging(session, actor=user, case_id=case_id, url=form.text("url"),
                              modality=modality, study_date=study_date,
                              description=form.get("description"),
                              policy=imaging_policy(request))
    except InvalidInput as exc:
        apply_error(form, exc, fallback="url")
    except FormInvalid:
        pass
    else:
        flash(request, "Imaging link added.")
        return see_other(f"/cases/{case_id}#imaging")
    with db(request) as session:
        return _case_again(request, session, case_id, form)


def _case_again(request: Request, session: Session, case_id: int, form: Form,
                which: str = "imaging_form", status: int = 422) -> Response:
    user = signed_in(request, session)
    case = cases.view_case(session, viewer=user, case_id=case_id)
    forms: dict[str, Any] = {which: form}
    return case_page(request, session, user, case, status=status, **forms)


async def add_treatment(request: Request) -> Response:
    """One more treatment already tried, at the end of the history of care."""
    case_id = path_id(request)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            kind = form.choice("kind", TreatmentKind, "treatment")
            response = form.choice("response", TreatmentResponse, "response")
            started, ended = form.day("started_on", "Started"), form.day("ended_on", "Ended")
            form.check()
            assert kind is not None and response is not None
            cases.add_care_entry(session, actor=user, case_id=case_id, entry=CareEntry(
                kind=kind, description=form.get("description"), started_on=started,
                ended_on=ended, response=response, notes=form.get("notes")))
    except InvalidInput as exc:
        apply_error(form, exc, rename=_CARE_FIELDS, fallback="description")
    except FormInvalid:
        pass
    else:
        flash(request, "Treatment added to the history of care.")
        return see_other(f"/cases/{case_id}#h-h")
    with db(request) as session:
        return _case_again(request, session, case_id, form, "care_form")


async def edit_case(request: Request) -> Response:
    """Corrections to the question, summary and urgency, until the panel decides."""
    case_id = path_id(request)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            urgency = form.choice("urgency", Urgency, "urgency")
            form.check()
            assert urgency is not None
            cases.update_case(session, actor=user, case_id=case_id, changes={
                "question": form.get("question"), "summary": form.get("summary"),
                "urgency": urgency, "eases": form.get("eases"), "worsens": form.get("worsens")})
    except InvalidInput as exc:
        apply_error(form, exc, fallback="question")
    except Conflict as exc:
        form.fail("question", exc.message)
        with db(request) as session:
            return _case_again(request, session, case_id, form, "edit_form", 409)
    except FormInvalid:
        pass
    else:
        flash(request, "Corrections saved.")
        return see_other(f"/cases/{case_id}")
    with db(request) as session:
        return _case_again(request, session, case_id, form, "edit_form")


# The domain names a treatment's fields care_history[N].x; this form has them bare.
_CARE_FIELDS = {f"care_history[{n}].{name}": name for n in range(101)
                for name in ("description", "started_on", "ended_on", "notes")}


routes = [
    Route("/cases/new", new_case, methods=["GET", "POST"]),
    Route("/cases/{id:int}", show),
    Route("/cases/{id:int}/imaging", add_imaging, methods=["POST"]),
    Route("/cases/{id:int}/care-history", add_treatment, methods=["POST"]),
    Route("/cases/{id:int}/edit", edit_case, methods=["POST"]),
]
