"""The decision forms on the case page: save a draft, sign it (chair), amend it (chair).

Every refusal re-renders the case page with what was typed: a stale save says
someone else changed the draft and shows their version beside yours; a sign-off
short of quorum names who is missing. The forms are read with the API's models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session
from starlette.responses import Response
from starlette.routing import Route

from conference.decision import check_texts
from conference.errors import CasebridgeError, Conflict, NotFound, QuorumNotMet, StaleVersion
from storage import agenda, cases, decisions
from storage.tables import AgendaItem
from web.api.schemas import AmendIn, DecisionIn, SignIn
from web.errors import status_for
from web.pages.action import Posted, Refusal, action
from web.pages.case_view import case_page
from web.pages.common import flash, see_other
from web.pages.form_model import FormModel, Label, fields_of
from web.pages.forms import Form

LABELS = {
    "outcome": Label("an outcome", choice=True),
    "follow_up_weeks": Label("Follow-up"),
    "responsible_clinician_id": Label("the responsible clinician", choice=True),
    "present_user_ids": Label("who was present", choice=True),
    "dissent.*.user_id": Label("Whose dissent", required="Whose dissent is this?"),
    "dissent.*.opinion": Label("The dissenting opinion"),
    "version": Label("The version read"),
    "reason": Label("The reason for the amendment"),
}


def decision_fields(form: Form, model: type[DecisionIn | AmendIn]
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The decision form as the API's body: dissent rows ``dissent-<row>-x`` become
    a list, and a blank row is no dissent."""
    data = fields_of(form, model)
    dissent: list[dict[str, str]] = []
    names: dict[str, str] = {}
    for row in range(form.rows("dissent", 1)):
        opinion, who = form.text(f"dissent-{row}-opinion"), form.text(f"dissent-{row}-user_id")
        if not who and not opinion:
            continue
        for name in ("user_id", "opinion"):
            names[f"dissent.{len(dissent)}.{name}"] = f"dissent-{row}-{name}"
        dissent.append({"opinion": form.get(f"dissent-{row}-opinion")} |
                       ({"user_id": who} if who else {}))
    data["dissent"] = dissent
    return data, names


def _item(session: Session, case_id: int, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    if item.case_id != case_id:
        raise NotFound(f"Item {item_id} is not about case {case_id}.")
    return item


def again(call: Posted[Any], status: int) -> Response:
    """The case page once more, this item's panel showing the form and the refusal."""
    case = cases.view_case(call.session, viewer=call.user, case_id=call.id())
    update = {"form": call.form, **call.extra}
    return case_page(call.request, call.session, call.user, case, status=status,
                     panel_update={call.id("item_id"): update})


def _done(call: Posted[Any], message: str) -> Response:
    flash(call.request, message)
    return see_other(f"/cases/{call.id()}#decision-{call.id('item_id')}")


def _stale(call: Posted[Any], exc: StaleVersion) -> None:
    """Keep what was typed, show the other person's version, and let them save over it."""
    call.form.fail("version", "This decision was changed by someone else while you were "
                              "editing. Your text is kept below; compare it with theirs, "
                              "then save again.")
    call.form.set("version", exc.actual)
    call.extra["stale"] = decisions.get_decision(call.session, call.id("item_id"))


def _refused(call: Posted[Any], exc: CasebridgeError) -> None:
    if isinstance(exc, StaleVersion):
        _stale(call, exc)
    elif isinstance(exc, QuorumNotMet):
        call.form.fail("present_user_ids", exc.message)
    else:
        Refusal().show(call, exc)


def _sign_refused(call: Posted[Any], exc: CasebridgeError) -> None:
    """A sign-off refusal is shown beside the sign button, the draft as it was."""
    call.form = Form()
    call.extra["sign_error"] = (
        "The draft was changed by someone else since you read it. Read it again below, "
        "then sign." if isinstance(exc, StaleVersion) else exc.message)


def _save(call: Posted[DecisionIn]) -> Response:
    case_id, item_id = call.id(), call.id("item_id")
    _item(call.session, case_id, item_id)
    dec = decisions.save_draft(call.session, actor=call.user, item_id=item_id,
                               content=call.values.to_domain(),
                               read_version=call.values.version,
                               attendance_note=call.values.attendance_note)
    if call.form.get("then_sign"):
        try:
            _confirmed(call)
            decisions.sign(call.session, actor=call.user, item_id=item_id,
                           read_version=dec.version)
        except (QuorumNotMet, StaleVersion, Conflict) as exc:
            # The draft is kept (committed); the sign-off refusal shows beside it.
            call.session.commit()
            _sign_refused(call, exc)
            return again(call, status_for(exc))
        return _signed(call)
    return _done(call, "Draft saved.")


def _signed(call: Posted[Any]) -> Response:
    return _done(call, "Decision signed. The referring clinician's letter is ready.")


def _confirmed(call: Posted[Any]) -> None:
    """Signing is deliberate: the page asks the chair to tick a confirmation."""
    if call.form.get("confirm") != "1":
        raise Conflict("Tick the confirmation to sign: a signed decision cannot be "
                       "changed, only amended.", code="confirmation_required")


def _sign(call: Posted[SignIn]) -> Response:
    _item(call.session, call.id(), call.id("item_id"))
    _confirmed(call)
    decisions.sign(call.session, actor=call.user, item_id=call.id("item_id"),
                   read_version=call.values.version or 0)
    return _signed(call)


def _amend(call: Posted[AmendIn]) -> Response:
    _item(call.session, call.id(), call.id("item_id"))
    decisions.amend(call.session, actor=call.user, item_id=call.id("item_id"),
                    reason=call.values.reason, changes=call.values.changes(),
                    read_version=call.values.version or 0)
    return _done(call, "Amendment signed; the earlier revision is kept.")


def _texts(data: Mapping[str, Any]) -> None:
    """The domain's own checks of what was typed, beside the model's (every problem at
    once: an empty rationale and plan are reported with a missing outcome)."""
    check_texts(rationale=str(data.get("rationale") or ""), plan=str(data.get("plan") or ""))


save = action(_save, again=again, refused=_refused, model=FormModel(
    DecisionIn, labels=LABELS, shape=lambda form: decision_fields(form, DecisionIn),
    rules=_texts))
sign = action(_sign, again=again, refused=_sign_refused,
              model=FormModel(SignIn, labels=LABELS))
amend = action(_amend, again=again, refused=_refused, model=FormModel(
    AmendIn, labels=LABELS, shape=lambda form: decision_fields(form, AmendIn)))


routes = [
    Route("/cases/{id:int}/decisions/{item_id:int}", save, methods=["POST"]),
    Route("/cases/{id:int}/decisions/{item_id:int}/sign", sign, methods=["POST"]),
    Route("/cases/{id:int}/decisions/{item_id:int}/amend", amend, methods=["POST"]),
]
