"""Form parsing shared by the pages: typed values kept, errors keyed by field name.

A page re-rendered after a refusal shows each message next to its field and
keeps everything that was typed, so a form is a plain mapping of the raw values
plus the errors; parsing turns it into domain values or records what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeVar

from starlette.requests import Request

from conference.cases import (
    CareEntry,
    CaseDetails,
    Sex,
    TreatmentKind,
    TreatmentResponse,
    Urgency,
)
from conference.errors import InvalidInput
from conference.imaging import Modality
from web.auth import check_csrf

E = TypeVar("E", bound=StrEnum)

BLANK_CARE_ROWS = 4
BLANK_IMAGING_ROWS = 2
MAX_ROWS = 100
CARE_FIELDS = ("kind", "description", "started_on", "ended_on", "response", "notes")
IMAGING_FIELDS = ("url", "modality", "study_date", "description")


class FormInvalid(InvalidInput):
    """Parsing found problems; the form now holds them in ``errors``."""

    def __init__(self, message: str = "Some fields need attention.") -> None:
        super().__init__(message, code="form_invalid")


@dataclass
class Form:
    """What was typed (every value of every field) and what is wrong with it."""

    data: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Mapping[str, object]) -> Form:
        """A form pre-filled from ``values`` (lists become several values)."""
        data: dict[str, list[str]] = {}
        for name, value in values.items():
            if isinstance(value, list | tuple | set | frozenset):
                data[name] = [str(v) for v in value]
            elif value is not None:
                data[name] = [str(value)]
        return cls(data)

    def get(self, name: str, default: object = "") -> str:
        values = self.data.get(name)
        return values[0] if values else ("" if default is None else str(default))

    def getlist(self, name: str) -> list[str]:
        return list(self.data.get(name, []))

    def has(self, name: str, value: object) -> bool:
        """Is ``value`` among the field's values (checkboxes, selects)?"""
        return str(getattr(value, "value", value)) in self.data.get(name, [])

    def set(self, name: str, value: object) -> None:
        self.data[name] = [str(value)]

    def rename(self, old: str, new: str) -> None:
        """Show field ``old`` (its values and its message) as ``new``."""
        if old in self.data:
            self.data[new] = self.data.pop(old)
        if old in self.errors:
            self.errors[new] = self.errors.pop(old)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(next(iter(self.errors.values())))

    # Typed readers: each records a message and returns None when the value is bad.

    def text(self, name: str) -> str:
        return self.get(name).strip()

    def integer(self, name: str, label: str, *, required: bool = True) -> int | None:
        raw = self.text(name)
        if not raw:
            if required:
                self.fail(name, f"{label} is required.")
            return None
        try:
            return int(raw)
        except ValueError:
            self.fail(name, f"{label} must be a whole number.")
            return None

    def day(self, name: str, label: str) -> date | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.fail(name, f"{label} must be a date (YYYY-MM-DD).")
            return None

    def choice(self, name: str, enum: type[E], label: str) -> E | None:
        raw = self.text(name)
        try:
            return enum(raw)
        except ValueError:
            self.fail(name, f"Choose {label}." if not raw else f"{raw!r} is not a valid {label}.")
            return None

    def choices(self, name: str, enum: type[E], label: str) -> list[E]:
        chosen = []
        for raw in self.getlist(name):
            try:
                chosen.append(enum(raw))
            except ValueError:
                self.fail(name, f"{raw!r} is not a valid {label}.")
        return chosen

    def ids(self, name: str) -> list[int]:
        out = []
        for raw in self.getlist(name):
            try:
                out.append(int(raw))
            except ValueError:
                self.fail(name, "Choose from the list.")
        return out

    def rows(self, name: str, minimum: int) -> int:
        """How many repeated rows to show: at least ``minimum``, one more on "add row"."""
        try:
            count = int(self.get(f"{name}_rows") or 0)
        except ValueError:
            count = 0
        count = max(minimum, min(count, MAX_ROWS))
        if self.get("add_row") == name:
            count = min(count + 1, MAX_ROWS)
        return count


async def read_form(request: Request) -> Form:
    """The posted form, after the CSRF check (a forged or stale form is refused)."""
    posted = await request.form()
    check_csrf(request, posted.get("csrf_token"))
    data: dict[str, list[str]] = {}
    for name, value in posted.multi_items():
        if isinstance(value, str) and name != "csrf_token":
            data.setdefault(name, []).append(value)
    return Form(data)


def apply_error(form: Form, exc: InvalidInput, *, rename: Mapping[str, str] | None = None,
                fallback: str = "form") -> None:
    """Put a domain refusal next to its field (``rename`` maps domain names to form names)."""
    name = exc.field or fallback
    form.fail((rename or {}).get(name, name), exc.message)


def _blank(form: Form, prefix: str, names: Iterable[str], defaults: Mapping[str, str]) -> bool:
    return all(form.text(f"{prefix}-{n}") in ("", defaults.get(n, "")) for n in names)


def care_history(form: Form) -> tuple[list[CareEntry], dict[str, str]]:
    """The history-of-care rows that were filled in, and a map from the domain's
    ``care_history[i].x`` field names to the form's ``care-<row>-x`` inputs."""
    entries: list[CareEntry] = []
    rename: dict[str, str] = {}
    defaults = {"kind": "", "response": "unknown"}
    for row in range(form.rows("care", BLANK_CARE_ROWS)):
        p = f"care-{row}"
        if _blank(form, p, CARE_FIELDS, defaults):
            continue
        kind = form.choice(f"{p}-kind", TreatmentKind, "kind of treatment")
        response = form.choice(f"{p}-response", TreatmentResponse, "response")
        started = form.day(f"{p}-started_on", "Started")
        ended = form.day(f"{p}-ended_on", "Ended")
        for name in CARE_FIELDS:
            rename[f"care_history[{len(entries)}].{name}"] = f"{p}-{name}"
        if kind and response:
            entries.append(CareEntry(kind, form.get(f"{p}-description"), started, ended,
                                     response, form.get(f"{p}-notes")))
        else:
            entries.append(CareEntry(TreatmentKind.OTHER, "", None, None,
                                     TreatmentResponse.UNKNOWN))
    return entries, rename


def case_details(form: Form) -> tuple[CaseDetails, dict[str, str]]:
    """The case fields of ``/cases/new`` and ``/requests/new``; raises :class:`FormInvalid`."""
    sex = form.choice("sex", Sex, "sex")
    urgency = form.choice("urgency", Urgency, "urgency")
    age = form.integer("age", "Age")
    history, rename = care_history(form)
    form.check()
    assert sex is not None and urgency is not None and age is not None
    details = CaseDetails(
        patient_ref=form.get("patient_ref"), age=age, sex=sex, urgency=urgency,
        summary=form.get("summary"), question=form.get("question"),
        eases=form.get("eases"), worsens=form.get("worsens"), care_history=tuple(history),
    )
    return details, rename


@dataclass(frozen=True)
class ImagingRow:
    row: int
    url: str
    modality: Modality
    study_date: date | None
    description: str


def imaging_rows(form: Form) -> list[ImagingRow]:
    """The imaging-link rows that were filled in (a URL makes a row count)."""
    out = []
    for row in range(form.rows("imaging", BLANK_IMAGING_ROWS)):
        p = f"imaging-{row}"
        if not form.text(f"{p}-url") and not form.text(f"{p}-description"):
            continue
        if not form.text(f"{p}-url"):
            form.fail(f"{p}-url", "Paste the viewer link for this study.")
        modality = form.choice(f"{p}-modality", Modality, "modality")
        study_date = form.day(f"{p}-study_date", "Study date")
        if modality is not None:
            out.append(ImagingRow(row, form.text(f"{p}-url"), modality, study_date,
                                  form.get(f"{p}-description")))
    return out
