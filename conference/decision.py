"""The panel's decision about one agenda item, and the rules that keep it honest.

A decision is drafted (saved any number of times, each save checked against the
version its author read: optimistic concurrency), then signed by the chair when
the quorum rule is met. A signed decision never changes: correcting it means an
amendment, a new signed revision with a reason, and every revision is kept.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput, SignedDecisionImmutable, StaleVersion, gather
from conference.states import require_transition

MAX_FOLLOW_UP_WEEKS = 104


class DecisionStatus(StrEnum):
    """A draft may change; a signed decision never does (amendments are revisions)."""

    DRAFT = "draft"
    SIGNED = "signed"


DECISION_TRANSITIONS = {
    DecisionStatus.DRAFT: frozenset({DecisionStatus.SIGNED}),
    DecisionStatus.SIGNED: frozenset[DecisionStatus](),
}


@dataclass(frozen=True)
class Dissent:
    """A panel member's recorded disagreement, kept with the decision."""

    user_id: int
    opinion: str


@dataclass(frozen=True)
class DecisionContent:
    """What the panel decided, why, what happens next, and who was there."""

    outcome: Outcome
    rationale: str
    plan: str
    follow_up_weeks: int
    present_user_ids: tuple[int, ...]
    responsible_clinician_id: int | None = None
    dissent: tuple[Dissent, ...] = ()


def check_texts(*, rationale: str, plan: str) -> None:
    """The rationale and the plan a letter needs: every problem at once."""
    def one(name: str, value: str, empty: str) -> None:
        if not value.strip():
            raise InvalidInput(empty, field=name)
        if len(value) > 20_000:
            raise InvalidInput(f"{name} is at most 20000 characters.", field=name)
    gather(lambda: one("rationale", rationale, "Say why: the rationale is required."),
           lambda: one("plan", plan, "The plan is required."))


def check_content(content: DecisionContent, *, member_ids: Collection[int]) -> None:
    """The fields a decision letter needs, and people who belong to the conference."""
    check_texts(rationale=content.rationale, plan=content.plan)
    if not 0 <= content.follow_up_weeks <= MAX_FOLLOW_UP_WEEKS:
        raise InvalidInput(
            f"Follow-up is 0 to {MAX_FOLLOW_UP_WEEKS} weeks.", field="follow_up_weeks"
        )
    strangers = sorted(set(content.present_user_ids) - set(member_ids))
    if strangers:
        raise InvalidInput(
            f"Not members of this conference: {', '.join(map(str, strangers))}.",
            field="present_user_ids",
        )
    responsible = content.responsible_clinician_id
    if responsible is not None and responsible not in member_ids:
        raise InvalidInput(
            "The responsible clinician must be a member of the conference.",
            field="responsible_clinician_id",
        )
    for d in content.dissent:
        if d.user_id not in content.present_user_ids:
            raise InvalidInput("A dissent must come from someone present.", field="dissent")
        if not d.opinion.strip():
            raise InvalidInput("A dissent needs its opinion written out.", field="dissent")


def check_save(status: DecisionStatus, *, read_version: int, current_version: int) -> None:
    """A draft is saved only over the version its author read."""
    if status is DecisionStatus.SIGNED:
        raise SignedDecisionImmutable()
    if read_version != current_version:
        raise StaleVersion(expected=read_version, actual=current_version)


def check_sign(status: DecisionStatus, *, read_version: int | None, current_version: int) -> None:
    """Only a draft is signed; a version, when given, must be the current one."""
    require_transition("decision", DECISION_TRANSITIONS, status, DecisionStatus.SIGNED)
    if read_version is not None and read_version != current_version:
        raise StaleVersion(expected=read_version, actual=current_version)


def check_amend(
    status: DecisionStatus, *, reason: str, read_version: int | None, current_version: int
) -> None:
    """Only a signed decision is amended, and the reason is part of the record."""
    if status is not DecisionStatus.SIGNED:
        raise InvalidInput(
            "Only a signed decision is amended; edit the draft instead.", field="status"
        )
    if not reason.strip():
        raise InvalidInput("An amendment needs its reason.", field="reason")
    if read_version is not None and read_version != current_version:
        raise StaleVersion(expected=read_version, actual=current_version)
