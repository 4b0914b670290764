"""Second-opinion requests from referring (often rural) clinicians.

submitted -> accepted | declined; accepted -> scheduled -> discussed -> answered.
Every step is timestamped so the turnaround from request to signed letter can be
measured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from conference.errors import InvalidInput
from conference.people import Specialty
from conference.states import require_transition


class RequestStatus(StrEnum):
    """Where a second-opinion request is on its way to a signed letter."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SCHEDULED = "scheduled"
    DISCUSSED = "discussed"
    ANSWERED = "answered"


REQUEST_TRANSITIONS = {
    RequestStatus.SUBMITTED: frozenset({RequestStatus.ACCEPTED, RequestStatus.DECLINED}),
    RequestStatus.ACCEPTED: frozenset({RequestStatus.SCHEDULED, RequestStatus.DECLINED}),
    RequestStatus.SCHEDULED: frozenset({RequestStatus.DISCUSSED}),
    RequestStatus.DISCUSSED: frozenset({RequestStatus.ANSWERED}),
    RequestStatus.DECLINED: frozenset[RequestStatus](),
    RequestStatus.ANSWERED: frozenset[RequestStatus](),
}


def move_request(current: RequestStatus, target: RequestStatus) -> RequestStatus:
    """Return ``target`` if a request may move there from ``current``."""
    require_transition("second-opinion request", REQUEST_TRANSITIONS, current, target)
    return target


def path_to(current: RequestStatus, target: RequestStatus) -> list[RequestStatus]:
    """The legal steps from ``current`` to ``target`` along the main path.

    Scheduling a submitted request accepts it first; signing the decision of a
    scheduled case marks it discussed, then answered. Each step keeps its time.
    """
    order = [RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.SCHEDULED,
             RequestStatus.DISCUSSED, RequestStatus.ANSWERED]
    if current in order and target in order and order.index(current) < order.index(target):
        return order[order.index(current) + 1 : order.index(target) + 1]
    move_request(current, target)
    return [target]


# The referrer's own chart number: a code with at least one digit (so a name alone
# never fits), letters, digits, spaces and . _ - / # inside.
_REFERRER_PATIENT_ID = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9 ._/#-]{0,63}$")
MAX_REFERRER_PATIENT_ID = 64


def check_referrer_patient_id(value: str | None) -> str | None:
    """The referring clinician's own identifier for the patient, trimmed (blank is
    none), or :class:`InvalidInput`: it is printed on the letter for their records,
    so it is a chart number, never a name."""
    value = (value or "").strip()
    if not value:
        return None
    if not _REFERRER_PATIENT_ID.match(value):
        raise InvalidInput(
            "Your patient identifier is a chart number: up to 64 letters, digits, spaces "
            "or . _ - / #, with at least one digit, never the patient's name.",
            field="referrer_patient_id")
    return value


def letter_id(request_id: int, revision: int) -> str:
    """The decision letter's stable reference: the request and the signed revision
    it prints (an amendment is a new letter, ``CB-12-R2``)."""
    return f"CB-{request_id}-R{revision}"


def check_requested_specialties(values: list[Specialty]) -> None:
    """A request names at least one specialty it wants an opinion from."""
    if not values:
        raise InvalidInput("Name at least one specialty you want an opinion from.",
                           field="requested_specialties")


def check_decline_reason(reason: str) -> None:
    """A declined request tells the referring clinician why."""
    if not reason.strip():
        raise InvalidInput("Tell the referring clinician why: a reason is required.",
                           field="reason")


def turnaround(times: Mapping[RequestStatus, datetime]) -> timedelta | None:
    """Time from submission to the signed answer, once there is one."""
    start, end = times.get(RequestStatus.SUBMITTED), times.get(RequestStatus.ANSWERED)
    return end - start if start and end else None


def median_turnaround(durations: list[timedelta]) -> timedelta | None:
    """The middle turnaround of answered requests (the mean hides a slow tail)."""
    if not durations:
        return None
    ordered = sorted(durations)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def describe_duration(value: timedelta) -> str:
    """``2 days 5 hours``, ``7 hours``, ``under an hour``: how a coordinator says it."""
    hours = int(value.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (
            f" {hours} hour{'s' if hours != 1 else ''}" if hours else "")
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "under an hour"
