"""Decisions: draft with optimistic versions, sign with quorum, amend, read history."""

from __future__ import annotations

from typing import Any

from conference.errors import NotFound
from storage import decisions
from storage.tables import Decision
from web.api.access import visible_item
from web.api.endpoint import Call, operation
from web.api.schemas import AmendIn, DecisionIn, Empty, SignIn
from web.api.views import DecisionView, RevisionView


def get_decision(call: Call[Empty]) -> DecisionView:
    item = visible_item(call.session, call.user, call.id())
    assert item.id is not None
    dec = decisions.get_decision(call.session, item.id)
    if dec is None:
        raise NotFound("No decision has been drafted for this agenda item yet.")
    return _view(call, dec)


def _view(call: Call[Any], dec: Decision) -> DecisionView:
    view = DecisionView.model_validate(dec)
    view.present_by_hand = decisions.by_hand_of(call.session, dec)
    return view


def save_draft(call: Call[DecisionIn]) -> DecisionView:
    body = call.body
    dec = decisions.save_draft(
        call.session, actor=call.user, item_id=call.id(), content=body.to_domain(),
        read_version=body.version, presence_given=body.present_user_ids is not None,
        attendance_note=body.attendance_note)
    return _view(call, dec)


def sign(call: Call[SignIn]) -> RevisionView:
    row = decisions.sign(call.session, actor=call.user, item_id=call.id(),
                         read_version=call.body.version)
    return RevisionView.model_validate(row)


def amend(call: Call[AmendIn]) -> RevisionView:
    row = decisions.amend(call.session, actor=call.user, item_id=call.id(),
                          reason=call.body.reason, changes=call.body.changes(),
                          read_version=call.body.version,
                          attendance_note=call.body.attendance_note)
    return RevisionView.model_validate(row)


def history(call: Call[Empty]) -> list[RevisionView]:
    item = visible_item(call.session, call.user, call.id())
    assert item.id is not None
    return [RevisionView.model_validate(r) for r in decisions.history(call.session, item.id)]


TAG = "decisions"
PATH = "/agenda-items/{id:int}/decision"
routes = [
    operation("GET", PATH, get_decision, body=Empty, tag=TAG, response=DecisionView,
              summary="The item's current decision (draft or signed) with its version"),
    operation("PUT", PATH, save_draft, body=DecisionIn, tag=TAG, response=DecisionView,
              summary="Save the draft over the version read (0 for new); stale -> 409"),
    operation("POST", PATH + "/sign", sign, body=SignIn, optional_body=True, tag=TAG,
              response=RevisionView,
              summary="The chair signs; 409 quorum_not_met names the missing roles"),
    operation("POST", PATH + "/amend", amend, body=AmendIn, tag=TAG, response=RevisionView,
              summary="The chair records a new signed revision with a reason"),
    operation("GET", PATH + "/history", history, body=Empty, tag=TAG, response=RevisionView,
              many=True, summary="Every signed revision, oldest first"),
]
