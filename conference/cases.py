"""A case: one patient's problem brought to the team, with everything already tried.

The surgeon must see every treatment already attempted before deciding, so the
history of care is first-class data, not free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from conference.errors import Conflict, InvalidInput, gather


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class TreatmentKind(StrEnum):
    PHYSICAL_THERAPY = "physical_therapy"
    MEDICATION = "medication"
    INJECTION = "injection"
    SURGERY = "surgery"
    OTHER = "other"


class TreatmentResponse(StrEnum):
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSE = "worse"
    UNKNOWN = "unknown"


# A pseudonymous reference such as "SPN-2024-0117" or an MRN-like token: letters,
# digits and - _ . with at least one digit. Spaces are refused, which keeps
# "Jane Doe" (and most names) out of a field the whole panel sees.
_PATIENT_REF = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9._-]{2,39}$")

MAX_AGE = 120
TEXT_LIMIT = 10_000


@dataclass(frozen=True)
class CareEntry:
    """One treatment already tried, and how the patient responded to it."""

    kind: TreatmentKind
    description: str
    started_on: date | None
    ended_on: date | None
    response: TreatmentResponse
    notes: str = ""


def check_patient_ref(patient_ref: str) -> str:
    """Return the trimmed reference, or refuse anything that looks like a name."""
    value = patient_ref.strip()
    if not _PATIENT_REF.match(value):
        raise InvalidInput(
            "The patient reference must be a pseudonymous code (3-40 letters, digits, "
            "'-', '_' or '.', with at least one digit), never the patient's name.",
            field="patient_ref",
        )
    return value


def check_text(value: str, *, field: str, required: bool, limit: int = TEXT_LIMIT,
               name: str | None = None) -> None:
    """Refuse an empty required text or one past ``limit`` characters; messages call
    it ``name`` (default: the field in words)."""
    said = name or field.replace("_", " ").capitalize()
    if required and not value.strip():
        raise InvalidInput(f"{said} is required.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{said} is at most {limit} characters.", field=field)


def check_age(age: int) -> None:
    if not 0 <= age <= MAX_AGE:
        raise InvalidInput(f"Age must be between 0 and {MAX_AGE}.", field="age")


def check_case(*, patient_ref: str, age: int, summary: str, question: str) -> None:
    """The fields every case needs before a panel can look at it (every problem at once)."""
    gather(lambda: check_patient_ref(patient_ref), lambda: check_age(age),
           lambda: check_text(summary, field="summary", required=True),
           lambda: check_text(question, field="question", required=True))


def check_care_entry(entry: CareEntry, *, today: date, index: int = 0) -> None:
    """A treatment needs a description and dates that make sense."""
    prefix = f"care_history[{index}]"

    def dates() -> None:
        if entry.started_on and entry.started_on > today:
            raise InvalidInput("A treatment already tried cannot start in the future.",
                               field=f"{prefix}.started_on")
        if entry.started_on and entry.ended_on and entry.ended_on < entry.started_on:
            raise InvalidInput("A treatment cannot end before it started.",
                               field=f"{prefix}.ended_on")

    gather(lambda: check_text(entry.description, field=f"{prefix}.description", required=True,
                              limit=2000, name="The description"),
           lambda: check_text(entry.notes, field=f"{prefix}.notes", required=False, limit=2000,
                              name="The notes"),
           dates)


def care_timeline(entries: list[CareEntry]) -> list[CareEntry]:
    """Oldest first; undated entries last, in the order they were given."""
    dated = sorted((e for e in entries if e.started_on), key=lambda e: e.started_on or date.min)
    return dated + [e for e in entries if not e.started_on]


@dataclass(frozen=True)
class CaseDetails:
    """Everything a case is created with."""

    patient_ref: str
    age: int
    sex: Sex
    summary: str
    question: str
    urgency: Urgency = Urgency.ROUTINE
    eases: str = ""
    worsens: str = ""
    care_history: tuple[CareEntry, ...] = ()


def check_case_details(details: CaseDetails, *, today: date) -> None:
    """Check a whole case, its history of care included; every problem at once."""

    def count() -> None:
        if len(details.care_history) > 100:
            raise InvalidInput("At most 100 treatments per case.", field="care_history")

    gather(lambda: check_case(patient_ref=details.patient_ref, age=details.age,
                              summary=details.summary, question=details.question),
           lambda: check_text(details.eases, field="eases", required=False, limit=2000),
           lambda: check_text(details.worsens, field="worsens", required=False, limit=2000),
           count,
           *(lambda i=index, e=entry: check_care_entry(e, today=today, index=i)
             for index, entry in enumerate(details.care_history[:100])))


EDITABLE_FIELDS = ("summary", "question", "urgency", "eases", "worsens")


def check_case_editable(*, has_signed_decision: bool) -> None:
    """What the panel decided on must stay what the letter shows: once a decision
    about the case is signed, its summary and question no longer change (the
    history of care and imaging may still grow)."""
    if has_signed_decision:
        raise Conflict("A signed decision rests on this case as it was; its summary and "
                       "question can no longer change. Add to the history of care, or "
                       "ask the chair to amend the decision.", code="case_decided")
