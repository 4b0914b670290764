from typing import Any

import pytest

from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput, QuorumNotMet
from conference.people import Attendee, Role, Specialty
from conference.quorum import (
    DEFAULT_RULE,
    check_quorum,
    describe_rule,
    missing_for_quorum,
    rule_from_dict,
    rule_to_dict,
)

CHAIR = Attendee(1, Role.SPECIALIST, Specialty.RADIOLOGY)
NEURO = Attendee(2, Role.SPECIALIST, Specialty.NEUROSURGERY)
ORTHO = Attendee(3, Role.SPECIALIST, Specialty.ORTHOPEDIC_SPINE)
PAIN = Attendee(4, Role.SPECIALIST, Specialty.PAIN_MEDICINE)
PT = Attendee(5, Role.SPECIALIST, Specialty.PHYSICAL_THERAPY)
GP = Attendee(6, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)


@pytest.mark.parametrize("outcome", [Outcome.SURGERY_RECOMMENDED, Outcome.CO_MANAGED_SURGERY])
def test_surgery_needs_surgeon_and_non_surgeon(outcome: Outcome) -> None:
    assert missing_for_quorum(DEFAULT_RULE, outcome, [CHAIR, NEURO, PAIN], chair_id=1) == []
    assert missing_for_quorum(DEFAULT_RULE, outcome, [CHAIR, ORTHO, GP], chair_id=1) == []
    missing = missing_for_quorum(DEFAULT_RULE, outcome, [CHAIR, NEURO, ORTHO], chair_id=1)
    assert len(missing) == 1 and "non-surgical" in missing[0]
    missing = missing_for_quorum(DEFAULT_RULE, outcome, [CHAIR, PT], chair_id=1)
    assert len(missing) == 1 and "surgeon" in missing[0]


def test_every_decision_needs_the_chair() -> None:
    assert missing_for_quorum(DEFAULT_RULE, Outcome.PHYSICAL_THERAPY, [PT], chair_id=1) == [
        "the chair"]
    assert missing_for_quorum(DEFAULT_RULE, Outcome.PHYSICAL_THERAPY, [CHAIR], chair_id=1) == []


def test_check_quorum_names_everything_missing() -> None:
    with pytest.raises(QuorumNotMet) as err:
        check_quorum(DEFAULT_RULE, Outcome.SURGERY_RECOMMENDED, [], chair_id=1)
    assert len(err.value.missing) == 3
    assert err.value.missing[0] == "the chair"
    assert "the chair" in err.value.message and "surgeon" in err.value.message


def test_rule_is_data_round_trip() -> None:
    data = rule_to_dict(DEFAULT_RULE)
    assert rule_from_dict(data) == DEFAULT_RULE


def test_rule_can_be_changed_by_a_team() -> None:
    rule = rule_from_dict({
        "chair_required": False,
        "always": [{"name": "a physical therapist", "specialties": ["physical_therapy"]}],
    })
    assert missing_for_quorum(rule, Outcome.OTHER, [PAIN], chair_id=1) == ["a physical therapist"]
    assert missing_for_quorum(rule, Outcome.SURGERY_RECOMMENDED, [PT], chair_id=1) == []


@pytest.mark.parametrize("data", [
    {"always": [{"name": "x"}]},
    {"always": [{"name": "x", "specialties": ["astrology"]}]},
    {"by_outcome": {"amputate": []}},
    {"by_outcome": 5},
])
def test_rule_from_dict_rejects_malformed(data: Any) -> None:
    with pytest.raises(InvalidInput):
        rule_from_dict(data)


def test_describe_rule_in_sentences() -> None:
    lines = describe_rule(DEFAULT_RULE)
    assert lines[0] == "Every decision needs the chair present."
    assert lines[1].startswith("Co-managed surgery") and "Surgery recommended" in lines[1]
    assert "a surgeon" in lines[1] and "non-surgical" in lines[1]
    assert describe_rule(rule_from_dict({"chair_required": False})) == [
        "Any decision may be signed by the chair without a quorum."]
