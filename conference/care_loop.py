"""After the decision: the follow-up that brings a case back, and the handoffs that
keep the surgeon, the physical therapist and the referring clinician engaged after
an operation ("intentional and informed", so no patient falls through the cracks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput
from conference.people import SURGICAL, Specialty


class FollowUpStatus(StrEnum):
    DUE = "due"  # waiting to be put on an agenda (overdue once its date has passed)
    SCHEDULED = "scheduled"  # back on an agenda as a new item
    DONE = "done"  # the returning item was decided


class OwnerRole(StrEnum):
    SURGEON = "surgeon"
    PHYSICAL_THERAPIST = "physical_therapist"
    REFERRING_CLINICIAN = "referring_clinician"


def follow_up_due(signed_on: date, weeks: int) -> date | None:
    """When a case comes back: ``weeks`` after signing; none for 0 weeks."""
    if weeks < 0:
        raise InvalidInput("Follow-up weeks cannot be negative.", field="follow_up_weeks")
    return signed_on + timedelta(weeks=weeks) if weeks else None


# The outcomes after which the operation's team is handed the patient.
HANDOFF_OUTCOMES = frozenset({Outcome.SURGERY_RECOMMENDED, Outcome.CO_MANAGED_SURGERY,
                              Outcome.POST_OPERATIVE_REHAB})


@dataclass(frozen=True)
class HandoffTask:
    task: str
    owner_role: OwnerRole
    due_in_days: int


HANDOFFS = (
    HandoffTask("Operative note and post-operative precautions shared with the team",
                OwnerRole.SURGEON, 14),
    HandoffTask("Post-operative rehabilitation plan: goals, restrictions and first visit",
                OwnerRole.PHYSICAL_THERAPIST, 21),
    HandoffTask("Follow-up visit and return to primary care, with red flags to watch for",
                OwnerRole.REFERRING_CLINICIAN, 42),
)


def handoffs_for(outcome: Outcome) -> tuple[HandoffTask, ...]:
    """The tasks a signed outcome creates (none for non-surgical ones)."""
    return HANDOFFS if outcome in HANDOFF_OUTCOMES else ()


def fits_role(role: OwnerRole, specialty: Specialty | None) -> bool:
    """Whether a panel member of ``specialty`` is the natural owner of a task of
    ``role`` (the referring clinician's task goes to the case's referrer instead)."""
    if role is OwnerRole.SURGEON:
        return specialty in SURGICAL
    if role is OwnerRole.PHYSICAL_THERAPIST:
        return specialty is Specialty.PHYSICAL_THERAPY
    return False


def is_overdue(due_on: date, *, done: bool, today: date) -> bool:
    return not done and due_on < today
