"""The quorum rule for signing a decision.

The point of the conference is the team: a decision that recommends surgery is
only signed with a surgeon (neurosurgery or orthopedic spine) and a non-surgical
specialist (pain medicine, physical therapy or primary care) present, and every
decision needs its chair. The rule is data, so a team can change it
(:func:`rule_from_dict`) without touching code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conference.decision_outcomes import SURGICAL_OUTCOMES, Outcome
from conference.errors import InvalidInput, QuorumNotMet
from conference.people import NON_SURGICAL, SURGICAL, Attendee, Specialty


@dataclass(frozen=True)
class Requirement:
    """At least one attendee with one of ``specialties`` must be present."""

    name: str
    specialties: frozenset[Specialty]

    def met_by(self, attendees: Iterable[Attendee]) -> bool:
        return any(a.specialty in self.specialties for a in attendees)


@dataclass(frozen=True)
class QuorumRule:
    """Who must be present to sign: the chair, requirements for every decision and
    more per outcome."""

    chair_required: bool = True
    always: tuple[Requirement, ...] = ()
    by_outcome: Mapping[Outcome, tuple[Requirement, ...]] = field(default_factory=dict)

    def requirements(self, outcome: Outcome) -> tuple[Requirement, ...]:
        return self.always + tuple(self.by_outcome.get(outcome, ()))


SURGEON = Requirement("a surgeon (neurosurgery or orthopedic spine)", SURGICAL)
NON_SURGICAL_SPECIALIST = Requirement(
    "a non-surgical specialist (pain medicine, physical therapy or primary care)", NON_SURGICAL
)

DEFAULT_RULE = QuorumRule(
    chair_required=True,
    by_outcome={o: (SURGEON, NON_SURGICAL_SPECIALIST) for o in SURGICAL_OUTCOMES},
)


def missing_for_quorum(
    rule: QuorumRule,
    outcome: Outcome,
    attendees: Iterable[Attendee],
    *,
    chair_id: int,
) -> list[str]:
    """Name each role the rule still needs; an empty list means quorum is met."""
    present = list(attendees)
    missing = []
    if rule.chair_required and all(a.user_id != chair_id for a in present):
        missing.append("the chair")
    missing.extend(r.name for r in rule.requirements(outcome) if not r.met_by(present))
    return missing


def check_quorum(
    rule: QuorumRule, outcome: Outcome, attendees: Iterable[Attendee], *, chair_id: int
) -> None:
    """Raise :class:`QuorumNotMet` naming the missing roles, if any."""
    missing = missing_for_quorum(rule, outcome, attendees, chair_id=chair_id)
    if missing:
        raise QuorumNotMet(missing)


def _requirement_from(data: Any) -> Requirement:
    try:
        return Requirement(str(data["name"]), frozenset(Specialty(s) for s in data["specialties"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"A quorum requirement is malformed: {exc}.", field="quorum") from exc


def rule_from_dict(data: Mapping[str, Any]) -> QuorumRule:
    """Build a rule from JSON-able data (see :func:`rule_to_dict`)."""
    try:
        by_outcome = {
            Outcome(k): tuple(_requirement_from(r) for r in v)
            for k, v in dict(data.get("by_outcome", {})).items()
        }
        always = tuple(_requirement_from(r) for r in data.get("always", ()))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The quorum rule is malformed: {exc}.", field="quorum") from exc
    return QuorumRule(bool(data.get("chair_required", True)), always, by_outcome)


def _requirement_to(r: Requirement) -> dict[str, Any]:
    return {"name": r.name, "specialties": sorted(s.value for s in r.specialties)}


def rule_to_dict(rule: QuorumRule) -> dict[str, Any]:
    """JSON-able data for ``rule`` (read back by :func:`rule_from_dict`)."""
    return {
        "chair_required": rule.chair_required,
        "always": [_requirement_to(r) for r in rule.always],
        "by_outcome": {
            o.value: [_requirement_to(r) for r in rs] for o, rs in rule.by_outcome.items()
        },
    }


def describe_rule(rule: QuorumRule) -> list[str]:
    """The rule in sentences a clinician reads on the conference page."""
    from conference.decision_outcomes import OUTCOME_LABELS

    lines = []
    always = [r.name for r in rule.always]
    if rule.chair_required:
        always.insert(0, "the chair")
    if always:
        lines.append(f"Every decision needs {', '.join(always)} present.")
    grouped: dict[tuple[str, ...], list[str]] = {}
    for outcome, requirements in rule.by_outcome.items():
        if requirements:
            key = tuple(r.name for r in requirements)
            grouped.setdefault(key, []).append(OUTCOME_LABELS[outcome])
    for names, outcomes in grouped.items():
        lines.append(f"{' and '.join(sorted(outcomes))} also need {' and '.join(names)}.")
    return lines or ["Any decision may be signed by the chair without a quorum."]
