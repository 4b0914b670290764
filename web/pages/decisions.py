"""The decision forms on the case page: save a draft, sign it (chair), amend it (chair).

Every refusal re-renders the case page with what was typed: a stale save says
someone else changed the draft and shows their version beside yours; a sign-off
short of quorum names who is missing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.decision import DecisionContent, Dissent
from conference.decision_outcomes import Outcome
from conference.errors import Conflict, InvalidInput, NotFound, QuorumNotMet, StaleVersion
from storage import agenda, cases, decisions
from storage.tables import AgendaItem
from web.db import db
from web.pages.case_view import case_page
from web.pages.common import flash, path_id, see_other, signed_in
from web.pages.forms import Form, FormInvalid, apply_error, read_form


def decision_content(form: Form) -> DecisionContent:
    """The decision fields of the draft and amendment forms; raises :class:`FormInvalid`."""
    outcome = form.choice("outcome", Outcome, "an outcome")
    weeks = form.integer("follow_up_weeks", "Follow-up")
    responsible = form.integer("responsible_clinician_id", "The responsible clinician",
                               required=False)
    present = form.ids("present_user_ids")
    dissent = []
    for row in range(form.rows("dissent", 1)):
        opinion = form.text(f"dissent-{row}-opinion")
        who = form.integer(f"dissent-{row}-user_id", "Who dissents", required=False)
        if who is None and not opinion:
            continue
        if who is None:
            form.fail(f"dissent-{row}-user_id", "Whose dissent is this?")
            continue
        dissent.append(Dissent(who, opinion))
    form.check()
    assert outcome is not None and weeks is not None
    return DecisionContent(outcome=outcome, rationale=form.get("rationale"),
                           plan=form.get("plan"), follow_up_weeks=weeks,
                           present_user_ids=tuple(present),
                           responsible_clinician_id=responsible, dissent=tuple(dissent))


def _item(session: Session, case_id: int, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    if item.case_id != case_id:
        raise NotFound(f"Item {item_id} is not about case {case_id}.")
    return item


def _version(form: Form) -> int:
    try:
        return int(form.get("version") or 0)
    except ValueError:
        return 0


def _again(request: Request, case_id: int, item_id: int, status: int,
           **update: Any) -> Response:
    with db(request) as session:
        user = signed_in(request, session)
        case = cases.view_case(session, viewer=user, case_id=case_id)
        return case_page(request, session, user, case, status=status,
                         panel_update={item_id: update})


def _done(request: Request, case_id: int, item_id: int, message: str) -> Response:
    flash(request, message)
    return see_other(f"/cases/{case_id}#decision-{item_id}")


async def save(request: Request) -> Response:
    case_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            _item(session, case_id, item_id)
            dec = decisions.save_draft(session, actor=user, item_id=item_id,
                                       content=decision_content(form),
                                       read_version=_version(form))
            version = dec.version
    except InvalidInput as exc:
        apply_error(form, exc)
        return _again(request, case_id, item_id, 422, form=form)
    except FormInvalid:
        return _again(request, case_id, item_id, 422, form=form)
    except StaleVersion as exc:
        return _stale(request, case_id, item_id, form, exc)
    if form.get("then_sign"):
        return await _sign(request, case_id, item_id, version)
    return _done(request, case_id, item_id, "Draft saved.")


def _stale(request: Request, case_id: int, item_id: int, form: Form,
           exc: StaleVersion) -> Response:
    """Keep what was typed, show the other person's version, and let them save over it."""
    with db(request) as session:
        theirs = decisions.get_decision(session, item_id)
    form.fail("version", "This decision was changed by someone else while you were "
                         "editing. Your text is kept below; compare it with theirs, then "
                         "save again.")
    form.set("version", exc.actual)
    return _again(request, case_id, item_id, 409, form=form, stale=theirs)


async def sign(request: Request) -> Response:
    case_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    return await _sign(request, case_id, item_id, _version(form))


async def _sign(request: Request, case_id: int, item_id: int, version: int) -> Response:
    try:
        with db(request) as session:
            user = signed_in(request, session)
            _item(session, case_id, item_id)
            decisions.sign(session, actor=user, item_id=item_id, read_version=version)
    except QuorumNotMet as exc:
        return _again(request, case_id, item_id, 409, sign_error=exc.message)
    except StaleVersion:
        return _again(request, case_id, item_id, 409,
                      sign_error="The draft was changed by someone else since you read it. "
                                 "Read it again below, then sign.")
    except (Conflict, NotFound) as exc:
        return _again(request, case_id, item_id, 409, sign_error=exc.message)
    return _done(request, case_id, item_id, "Decision signed. The referring clinician's "
                                            "letter is ready.")


async def amend(request: Request) -> Response:
    case_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            _item(session, case_id, item_id)
            content = decision_content(form)
            changes = {name: getattr(content, name) for name in asdict(content)}
            changes["dissent"] = content.dissent
            decisions.amend(session, actor=user, item_id=item_id, reason=form.get("reason"),
                            changes=changes, read_version=_version(form))
    except InvalidInput as exc:
        apply_error(form, exc)
        return _again(request, case_id, item_id, 422, form=form)
    except FormInvalid:
        return _again(request, case_id, item_id, 422, form=form)
    except QuorumNotMet as exc:
        form.fail("present_user_ids", exc.message)
        return _again(request, case_id, item_id, 409, form=form)
    except StaleVersion as exc:
        return _stale(request, case_id, item_id, form, exc)
    return _done(request, case_id, item_id, "Amendment signed; the earlier revision is kept.")


routes = [
    Route("/cases/{id:int}/decisions/{item_id:int}", save, methods=["POST"]),
    Route("/cases/{id:int}/decisions/{item_id:int}/sign", sign, methods=["POST"]),
    Route("/cases/{id:int}/decisions/{item_id:int}/amend", amend, methods=["POST"]),
]
