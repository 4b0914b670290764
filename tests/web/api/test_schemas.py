import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from conference.decision import Dissent
from tests.factories import found
from web.api.schemas import AmendIn, CaseIn, ConferenceIn, DecisionIn


def test_schemas_amend_changes_only_what_was_sent() -> None:
    body = AmendIn.model_validate_json(
        b'{"reason": "r", "plan": "p", "outcome": null, "responsible_clinician_id": null,'
        b' "dissent": [{"user_id": 3, "opinion": "Would wait."}], "present_user_ids": [3]}')
    assert body.changes() == {"plan": "p", "responsible_clinician_id": None,
                              "dissent": (Dissent(3, "Would wait."),),
                              "present_user_ids": (3,)}


def test_schemas_decision_to_domain_without_presence() -> None:
    body = DecisionIn.model_validate_json(
        b'{"outcome": "other", "rationale": "r", "plan": "p", "follow_up_weeks": 0,'
        b' "version": 0}')
    assert body.present_user_ids is None
    assert body.to_domain().present_user_ids == ()


def test_schemas_case_to_domain_keeps_history_order() -> None:
    body = CaseIn.model_validate_json(
        b'{"patient_ref": "SPN-1", "age": 3, "sex": "other", "summary": "s", "question": "q",'
        b' "care_history": [{"kind": "surgery", "description": "a"},'
        b' {"kind": "injection", "description": "b", "started_on": "2026-01-02"}]}')
    details = body.to_domain()
    assert [e.description for e in details.care_history] == ["a", "b"]
    assert found(details.care_history[1].started_on).isoformat() == "2026-01-02"


def test_schemas_conference_start_moved_to_utc() -> None:
    body = ConferenceIn.model_validate_json(
        b'{"title": "t", "starts_at": "2026-12-01T07:00:00-06:00", "duration_minutes": 60,'
        b' "chair_id": 1}')
    assert body.starts_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("starts_at", ["2026-12-01T07:00:00", "1066-10-14T09:00:00+00:00",
                                       "2026-12-01", "tomorrow"])
def test_schemas_conference_start_refused(starts_at: str) -> None:
    raw = json.dumps({"title": "t", "starts_at": starts_at, "duration_minutes": 60,
                      "chair_id": 1})
    with pytest.raises(ValidationError) as info:
        ConferenceIn.model_validate_json(raw)
    assert info.value.errors()[0]["loc"] == ("starts_at",)
