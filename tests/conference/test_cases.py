from datetime import date
from typing import Any

import pytest

from conference.cases import (
    CareEntry,
    TreatmentKind,
    TreatmentResponse,
    care_timeline,
    check_care_entry,
    check_case,
    check_patient_ref,
)
from conference.errors import InvalidInput

TODAY = date(2026, 11, 28)


def entry(**kw: Any) -> CareEntry:
    base: dict[str, Any] = dict(
        kind=TreatmentKind.PHYSICAL_THERAPY, description="12 sessions, core stabilisation",
        started_on=date(2026, 3, 1), ended_on=date(2026, 5, 1),
        response=TreatmentResponse.UNCHANGED)
    base.update(kw)
    return CareEntry(**base)


@pytest.mark.parametrize("ref", ["SPN-2026-0117", "mrn123456", "A1b", "X.9_z-1"])
def test_patient_ref_accepts_codes(ref: str) -> None:
    assert check_patient_ref(f" {ref} ") == ref


@pytest.mark.parametrize("ref", ["Jane Doe", "DOE", "ab1 x", "", "-12", "x" * 41, "12"])
def test_patient_ref_refuses_names_and_junk(ref: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_patient_ref(ref)
    assert err.value.field == "patient_ref"


@pytest.mark.parametrize(("kw", "field"), [
    ({"age": -1}, "age"), ({"age": 121}, "age"), ({"summary": " "}, "summary"),
    ({"question": ""}, "question"), ({"summary": "x" * 10_001}, "summary"),
])
def test_check_case_rejects(kw: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = dict(patient_ref="SPN-1", age=54, summary="Low back pain",
                                question="Surgery?")
    args.update(kw)
    with pytest.raises(InvalidInput) as err:
        check_case(**args)
    assert err.value.field == field


def test_care_entry_end_before_start() -> None:
    with pytest.raises(InvalidInput) as err:
        check_care_entry(entry(ended_on=date(2026, 2, 1)), today=TODAY, index=2)
    assert err.value.field == "care_history[2].ended_on"


def test_care_entry_future_start() -> None:
    with pytest.raises(InvalidInput) as err:
        check_care_entry(entry(started_on=date(2027, 1, 1), ended_on=None), today=TODAY)
    assert err.value.field == "care_history[0].started_on"


def test_care_entry_needs_description() -> None:
    with pytest.raises(InvalidInput):
        check_care_entry(entry(description=" "), today=TODAY)


def test_care_entry_ongoing_and_undated_are_fine() -> None:
    check_care_entry(entry(ended_on=None), today=TODAY)
    check_care_entry(entry(started_on=None, ended_on=None), today=TODAY)


def test_care_timeline_oldest_first_undated_last() -> None:
    a = entry(description="a", started_on=date(2026, 5, 1), ended_on=None)
    b = entry(description="b", started_on=None, ended_on=None)
    c = entry(description="c", started_on=date(2025, 1, 1), ended_on=None)
    assert [e.description for e in care_timeline([a, b, c])] == ["c", "a", "b"]
