from typing import Any

import pytest

from conference.decision import (
    DecisionContent,
    DecisionStatus,
    Dissent,
    check_amend,
    check_content,
    check_save,
    check_sign,
)
from conference.decision_outcomes import Outcome
from conference.errors import IllegalTransition, InvalidInput, SignedDecisionImmutable, StaleVersion

MEMBERS = {1, 2, 3}


def content(**kw: Any) -> DecisionContent:
    base: dict[str, Any] = dict(outcome=Outcome.PHYSICAL_THERAPY, rationale="Plateaued ROM",
                                plan="6 weeks PT", follow_up_weeks=6, present_user_ids=(1, 2))
    base.update(kw)
    return DecisionContent(**base)


def test_content_valid() -> None:
    check_content(content(dissent=(Dissent(2, "Would image first"),), responsible_clinician_id=3),
                  member_ids=MEMBERS)


@pytest.mark.parametrize(("kw", "field"), [
    ({"rationale": " "}, "rationale"), ({"plan": ""}, "plan"),
    ({"follow_up_weeks": -1}, "follow_up_weeks"), ({"follow_up_weeks": 105}, "follow_up_weeks"),
    ({"present_user_ids": (1, 9)}, "present_user_ids"),
    ({"responsible_clinician_id": 9}, "responsible_clinician_id"),
    ({"dissent": (Dissent(3, "no"),)}, "dissent"),
    ({"dissent": (Dissent(1, " "),)}, "dissent"),
    ({"rationale": "x" * 20_001}, "rationale"),
])
def test_content_rejected(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_content(content(**kw), member_ids=MEMBERS)
    assert err.value.field == field


def test_save_stale_version() -> None:
    with pytest.raises(StaleVersion) as err:
        check_save(DecisionStatus.DRAFT, read_version=2, current_version=3)
    assert err.value.details == {"your_version": 2, "current_version": 3}
    check_save(DecisionStatus.DRAFT, read_version=3, current_version=3)


def test_save_signed_is_immutable() -> None:
    with pytest.raises(SignedDecisionImmutable):
        check_save(DecisionStatus.SIGNED, read_version=3, current_version=3)


def test_sign_only_a_draft() -> None:
    check_sign(DecisionStatus.DRAFT, read_version=None, current_version=1)
    with pytest.raises(IllegalTransition):
        check_sign(DecisionStatus.SIGNED, read_version=None, current_version=2)
    with pytest.raises(StaleVersion):
        check_sign(DecisionStatus.DRAFT, read_version=1, current_version=2)


def test_amend_needs_signed_and_reason() -> None:
    with pytest.raises(InvalidInput):
        check_amend(DecisionStatus.DRAFT, reason="typo", read_version=None, current_version=1)
    with pytest.raises(InvalidInput) as err:
        check_amend(DecisionStatus.SIGNED, reason=" ", read_version=None, current_version=2)
    assert err.value.field == "reason"
    with pytest.raises(StaleVersion):
        check_amend(DecisionStatus.SIGNED, reason="MRI report", read_version=1, current_version=2)
    check_amend(DecisionStatus.SIGNED, reason="MRI report", read_version=2, current_version=2)
