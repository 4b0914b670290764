"""Patient-reported outcomes: the instruments, their scoring, and what counts as a
clinically important change.

Scoring follows the instruments' published rules:

- ODI (Oswestry Disability Index, version 2.1a) and NDI (Neck Disability Index): ten
  sections scored 0-5. The score is the sum of the answered sections divided by five
  times the number answered, as a percentage to one decimal. At least eight of the ten
  sections must be answered (with more missing the index is not valid). A total from
  a paper form may be entered instead, as a percentage (0-100).
- NRS (numeric rating scale) for back, leg, neck and arm pain: one integer 0-10.

Lower is better on every instrument. An improvement is clinically important (the
minimal clinically important difference, MCID) at 12.8 points for ODI, 15 for NDI
(percentage scale) and 2 for an NRS, measured from the case's baseline.

ODI and NDI wording is copyrighted. Casebridge ships only section ids and titles; a
site that holds a licence puts the full wording in a file (``CASEBRIDGE_INSTRUMENT_TEXT``)
and the patient form shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from conference.errors import InvalidInput, InvalidInputs


class Instrument(StrEnum):
    ODI = "odi"
    NDI = "ndi"
    NRS_BACK = "nrs_back"
    NRS_LEG = "nrs_leg"
    NRS_NECK = "nrs_neck"
    NRS_ARM = "nrs_arm"


class Timepoint(StrEnum):
    BASELINE = "baseline"
    WEEKS_6 = "6_weeks"
    MONTHS_3 = "3_months"
    MONTHS_6 = "6_months"
    MONTHS_12 = "12_months"
    MONTHS_24 = "24_months"
    OTHER = "other"


INDEXES = frozenset({Instrument.ODI, Instrument.NDI})
SECTIONS = 10
MIN_ANSWERED = 8
MAX_ANSWER = 5
MAX_NRS = 10

MCID = {Instrument.ODI: Decimal("12.8"), Instrument.NDI: Decimal("15"),
        Instrument.NRS_BACK: Decimal(2), Instrument.NRS_LEG: Decimal(2),
        Instrument.NRS_NECK: Decimal(2), Instrument.NRS_ARM: Decimal(2)}

NAMES = {Instrument.ODI: "Oswestry Disability Index", Instrument.NDI: "Neck Disability Index",
         Instrument.NRS_BACK: "Back pain (0-10)", Instrument.NRS_LEG: "Leg pain (0-10)",
         Instrument.NRS_NECK: "Neck pain (0-10)", Instrument.NRS_ARM: "Arm pain (0-10)"}

# Section titles only (the questions and answers are the copyright holders' text).
SECTION_TITLES = {
    Instrument.ODI: ("Pain intensity", "Personal care", "Lifting", "Walking", "Sitting",
                     "Standing", "Sleeping", "Sex life", "Social life", "Travelling"),
    Instrument.NDI: ("Pain intensity", "Personal care", "Lifting", "Reading", "Headaches",
                     "Concentration", "Work", "Driving", "Sleeping", "Recreation"),
}

# The NRS wording is free to use.
NRS_QUESTIONS = {
    Instrument.NRS_BACK: "On average over the past week, how bad has your back pain been?",
    Instrument.NRS_LEG: "On average over the past week, how bad has your leg pain been?",
    Instrument.NRS_NECK: "On average over the past week, how bad has your neck pain been?",
    Instrument.NRS_ARM: "On average over the past week, how bad has your arm pain been?",
}
NRS_ANCHORS = ("0 = no pain", "10 = worst pain imaginable")


@dataclass(frozen=True)
class Score:
    """A measure as scored: the value and how many items it rests on."""

    value: Decimal
    answered: int


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def instrument_of(value: str) -> Instrument:
    try:
        return Instrument(value)
    except ValueError:
        known = ", ".join(i.value for i in Instrument)
        raise InvalidInput(f"Unknown instrument {value!r}: use one of {known}.",
                           field="instrument") from None


def score(instrument: Instrument, *, answers: Sequence[int | None] | None = None,
          total: Decimal | int | float | None = None) -> Score:
    """Score one measure from its item answers, or take a total from a paper form."""
    if (answers is None) == (total is None):
        raise InvalidInput("Give either the answers or the score, not both or neither.",
                           field="answers")
    if instrument in INDEXES:
        return _index(instrument, answers, total)
    return _nrs(answers, total)


def _index(instrument: Instrument, answers: Sequence[int | None] | None,
           total: Decimal | int | float | None) -> Score:
    if total is not None:
        value = Decimal(str(total))
        if not 0 <= value <= 100:
            raise InvalidInput(f"An {instrument.value.upper()} score is a percentage, 0 to 100.",
                               field="score")
        return Score(_one_decimal(value), SECTIONS)
    assert answers is not None
    if len(answers) != SECTIONS:
        raise InvalidInput(f"An {instrument.value.upper()} has {SECTIONS} sections: give ten "
                           "answers, null for a section left blank.", field="answers")
    problems = [InvalidInput(f"Section {n + 1} is scored 0 to {MAX_ANSWER}.",
                             field=f"answers[{n}]")
                for n, a in enumerate(answers)
                if a is not None and (isinstance(a, bool) or not 0 <= a <= MAX_ANSWER)]
    if problems:
        raise InvalidInputs(problems) if len(problems) > 1 else problems[0]
    given = [a for a in answers if a is not None]
    if len(given) < MIN_ANSWERED:
        raise InvalidInput(f"At least {MIN_ANSWERED} of the {SECTIONS} sections must be "
                           f"answered for a valid {instrument.value.upper()} "
                           f"({len(given)} were).", field="answers")
    value = Decimal(sum(given)) * 100 / (MAX_ANSWER * len(given))
    return Score(_one_decimal(value), len(given))


def _nrs(answers: Sequence[int | None] | None, total: Decimal | int | float | None) -> Score:
    if answers is not None:
        raise InvalidInput("A pain rating is one number: give it as the score.",
                           field="answers")
    value = Decimal(str(total))
    if value != value.to_integral_value() or not 0 <= value <= MAX_NRS:
        raise InvalidInput(f"A pain rating is a whole number from 0 to {MAX_NRS}.",
                           field="score")
    return Score(value, 1)


def check_collected(collected_on: date, *, today: date) -> None:
    if collected_on > today:
        raise InvalidInput("The date collected cannot be in the future.", field="collected_on")


@dataclass(frozen=True)
class Change:
    """A measure against its baseline: negative is better."""

    from_baseline: Decimal | None
    mcid_reached: bool | None


def change(instrument: Instrument, value: Decimal, baseline: Decimal | None) -> Change:
    """Change from the baseline, and whether the improvement is clinically important.
    Without a baseline (or for the baseline itself) there is nothing to compare."""
    if baseline is None:
        return Change(None, None)
    delta = _one_decimal(value - baseline)
    return Change(delta, -delta >= MCID[instrument])
