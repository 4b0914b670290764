"""The vocabulary of what a panel can decide about a case."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What a panel can decide (the CONTRACT vocabulary)."""

    CONTINUE_CONSERVATIVE = "continue_conservative"
    PHYSICAL_THERAPY = "physical_therapy"
    PAIN_MANAGEMENT = "pain_management"
    FURTHER_IMAGING = "further_imaging"
    SURGICAL_CONSULT = "surgical_consult"
    SURGERY_RECOMMENDED = "surgery_recommended"
    CO_MANAGED_SURGERY = "co_managed_surgery"
    POST_OPERATIVE_REHAB = "post_operative_rehab"
    OTHER = "other"


OUTCOME_LABELS = {
    Outcome.CONTINUE_CONSERVATIVE: "Continue conservative care",
    Outcome.PHYSICAL_THERAPY: "Physical therapy",
    Outcome.PAIN_MANAGEMENT: "Pain management",
    Outcome.FURTHER_IMAGING: "Further imaging",
    Outcome.SURGICAL_CONSULT: "Surgical consultation",
    Outcome.SURGERY_RECOMMENDED: "Surgery recommended",
    Outcome.CO_MANAGED_SURGERY: "Co-managed surgery (neurosurgery and orthopedic spine)",
    Outcome.POST_OPERATIVE_REHAB: "Post-operative rehabilitation",
    Outcome.OTHER: "Other",
}

SURGICAL_OUTCOMES = frozenset({Outcome.SURGERY_RECOMMENDED, Outcome.CO_MANAGED_SURGERY})
