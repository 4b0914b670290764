"""Rules across the domain: state machines, people, conferences."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from conference.agenda import ITEM_TRANSITIONS, ItemStatus, move_item
from conference.conferences import (
    CONFERENCE_TRANSITIONS,
    ConferenceStatus,
    check_conference,
    move_conference,
)
from conference.decision import DECISION_TRANSITIONS, DecisionStatus
from conference.errors import IllegalTransition, InvalidInput, InvalidInputs, gather
from conference.people import (
    Role,
    Specialty,
    check_credentials,
    check_password,
    check_person,
    normalize_email,
)
from conference.referrals import (
    REQUEST_TRANSITIONS,
    RequestStatus,
    check_decline_reason,
    check_referrer_patient_id,
    check_requested_specialties,
    letter_id,
    move_request,
    path_to,
    turnaround,
)
from conference.signin import check_filled

MACHINES: list[tuple[Any, Any, Any]] = [
    (ConferenceStatus, CONFERENCE_TRANSITIONS, move_conference),
    (ItemStatus, ITEM_TRANSITIONS, move_item),
    (RequestStatus, REQUEST_TRANSITIONS, move_request),
]


def _all_pairs() -> Iterator[Any]:
    for enum, table, move in MACHINES:
        for a in enum:
            for b in enum:
                yield pytest.param(table, move, a, b, id=f"{enum.__name__}:{a}->{b}")


@pytest.mark.parametrize(("table", "move", "current", "target"), list(_all_pairs()))
def test_state_machines_every_pair(table: Any, move: Any, current: Any, target: Any) -> None:
    if target in table[current]:
        assert move(current, target) is target
    else:
        with pytest.raises(IllegalTransition) as err:
            move(current, target)
        assert err.value.details == {"machine": err.value.machine, "from": current.value,
                                     "to": target.value}
        assert err.value.code == "illegal_transition"


def test_state_machines_cover_every_state() -> None:
    for enum, table, _ in MACHINES:
        assert set(table) == set(enum)
    assert set(DECISION_TRANSITIONS) == set(DecisionStatus)


def test_conference_main_path() -> None:
    s = ConferenceStatus.DRAFT
    for nxt in ("published", "live", "closed"):
        s = move_conference(s, ConferenceStatus(nxt))
    assert s is ConferenceStatus.CLOSED


def test_conference_closed_is_final() -> None:
    with pytest.raises(IllegalTransition):
        move_conference(ConferenceStatus.CLOSED, ConferenceStatus.LIVE)
    with pytest.raises(IllegalTransition):
        move_conference(ConferenceStatus.DRAFT, ConferenceStatus.LIVE)


def test_check_conference_rejects_naive_start() -> None:
    with pytest.raises(InvalidInput) as err:
        check_conference(title="Spine", starts_at=datetime(2026, 12, 1, 7), duration_minutes=60)
    assert err.value.field == "starts_at"


@pytest.mark.parametrize(("title", "minutes", "field"), [
    ("  ", 60, "title"), ("x" * 201, 60, "title"), ("Spine", 4, "duration_minutes"),
    ("Spine", 721, "duration_minutes"),
])
def test_check_conference_rejects(title: str, minutes: int, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_conference(title=title, starts_at=datetime(2026, 12, 1, tzinfo=UTC),
                         duration_minutes=minutes)
    assert err.value.field == field


def test_check_conference_accepts_offset() -> None:
    tz = timezone(timedelta(hours=-5))
    check_conference(title="Weekly spine", starts_at=datetime(2026, 12, 1, 7, tzinfo=tz),
                     duration_minutes=90)


def test_person_specialist_needs_specialty() -> None:
    with pytest.raises(InvalidInput) as err:
        check_person(name="Dr. Okafor", role=Role.SPECIALIST, specialty=None)
    assert err.value.field == "specialty"
    check_person(name="Dr. Okafor", role=Role.SPECIALIST, specialty=Specialty.NEUROSURGERY)
    check_person(name="Sam Rivera", role=Role.COORDINATOR, specialty=None)


def test_person_name_required() -> None:
    with pytest.raises(InvalidInput):
        check_person(name=" ", role=Role.ADMIN, specialty=None)


@pytest.mark.parametrize("bad", ["", "nobody", "a@b", "a b@c.org", "@x.org"])
def test_normalize_email_rejects(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_email(bad)


def test_normalize_email_lowercases() -> None:
    assert normalize_email("  Dr.Lee@Clinic.ORG ") == "dr.lee@clinic.org"


def test_check_password_length() -> None:
    with pytest.raises(InvalidInput):
        check_password("short")
    check_password("long enough passphrase")


def test_request_path_to_answered_passes_discussed() -> None:
    assert path_to(RequestStatus.SCHEDULED, RequestStatus.ANSWERED) == [
        RequestStatus.DISCUSSED, RequestStatus.ANSWERED]
    assert path_to(RequestStatus.SUBMITTED, RequestStatus.SCHEDULED) == [
        RequestStatus.ACCEPTED, RequestStatus.SCHEDULED]


def test_request_path_to_refuses_backwards_and_declined() -> None:
    with pytest.raises(IllegalTransition):
        path_to(RequestStatus.ANSWERED, RequestStatus.SCHEDULED)
    with pytest.raises(IllegalTransition):
        path_to(RequestStatus.DECLINED, RequestStatus.SCHEDULED)
    assert path_to(RequestStatus.SUBMITTED, RequestStatus.DECLINED) == [RequestStatus.DECLINED]


def test_request_turnaround() -> None:
    t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    times = {RequestStatus.SUBMITTED: t0}
    assert turnaround(times) is None
    times[RequestStatus.ANSWERED] = t0 + timedelta(days=3)
    assert turnaround(times) == timedelta(days=3)


def test_request_reason_and_specialties_required() -> None:
    with pytest.raises(InvalidInput):
        check_decline_reason("  ")
    with pytest.raises(InvalidInput):
        check_requested_specialties([])
    check_requested_specialties([Specialty.NEUROSURGERY])


def test_request_median_turnaround() -> None:
    from conference.referrals import median_turnaround

    days = [timedelta(days=d) for d in (5, 1, 3)]
    assert median_turnaround(days) == timedelta(days=3)
    assert median_turnaround(days[:2]) == timedelta(days=3)
    assert median_turnaround([]) is None


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(minutes=20), "under an hour"), (timedelta(hours=1), "1 hour"),
    (timedelta(hours=7, minutes=59), "7 hours"), (timedelta(days=1), "1 day"),
    (timedelta(days=2, hours=5), "2 days 5 hours"),
])
def test_request_describe_duration(value: timedelta, text: str) -> None:
    from conference.referrals import describe_duration

    assert describe_duration(value) == text


def test_text_nul_found_in_nested_text() -> None:
    from conference.text import holds_nul

    assert holds_nul(["fine", {"opinion": "x\x00"}])
    assert not holds_nul({"opinion": "fine", "n": 3})


def test_credentials_one_short_line() -> None:
    assert check_credentials("  MD, FRCSC ") == "MD, FRCSC"
    for bad in ("MD\nFRCSC", "x" * 101):
        with pytest.raises(InvalidInput) as err:
            check_credentials(bad)
        assert err.value.field == "credentials"


@pytest.mark.parametrize("value,kept", [("", None), ("   ", None), (None, None),
                                        (" MRN 0044712 ", "MRN 0044712"), ("A-1/2#3", "A-1/2#3")])
def test_referrer_patient_id_kept_trimmed(value: str | None, kept: str | None) -> None:
    assert check_referrer_patient_id(value) == kept


@pytest.mark.parametrize("value", ["Jane Doe", "12\n34", "x1" * 33, "-123"])
def test_referrer_patient_id_refuses_names_and_odd_text(value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_referrer_patient_id(value)
    assert err.value.field == "referrer_patient_id"


def test_letter_id_names_request_and_revision() -> None:
    assert letter_id(12, 3) == "CB-12-R3"


def test_gather_runs_every_check_and_keeps_each_problem() -> None:
    ran: list[str] = []

    def refuse(field: str) -> None:
        ran.append(field)
        raise InvalidInput(f"{field} is wrong.", field=field)

    gather(lambda: ran.append("fine"))
    with pytest.raises(InvalidInput) as one:
        gather(lambda: None, lambda: refuse("a"))
    assert not isinstance(one.value, InvalidInputs) and one.value.field == "a"
    with pytest.raises(InvalidInputs) as many:
        gather(lambda: refuse("b"), lambda: gather(lambda: refuse("c"), lambda: refuse("d")))
    assert [p.field for p in many.value.problems] == ["b", "c", "d"]
    assert (many.value.field, many.value.message) == ("b", "b is wrong.")
    assert many.value.details["errors"][2] == {"field": "d", "message": "d is wrong."}
    assert ran == ["fine", "a", "b", "c", "d"]


def test_sign_in_fields_blank_are_named_together() -> None:
    check_filled(email="a@b.example", password="x")
    with pytest.raises(InvalidInputs) as both:
        check_filled(email=" ", password="")
    assert [p.field for p in both.value.problems] == ["email", "password"]


def test_person_problems_are_named_together() -> None:
    with pytest.raises(InvalidInputs) as both:
        check_person(name=" ", role=Role.SPECIALIST, specialty=None)
    assert [p.field for p in both.value.problems] == ["name", "specialty"]
