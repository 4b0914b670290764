"""A posted form as the pages keep it: what was typed, and what is wrong with it.

A page re-rendered after a refusal shows each message next to its field and
keeps everything that was typed, so a form is a plain mapping of the raw values
plus the errors. Reading it into typed values is the API models' job
(``web/pages/form_model.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request

from conference.errors import InvalidInput, InvalidInputs
from conference.text import refuse_nul
from web.auth import check_csrf

BLANK_CARE_ROWS = 4
BLANK_IMAGING_ROWS = 2
MAX_ROWS = 100


class FormInvalid(InvalidInput):
    """Parsing found problems; the form now holds them in ``errors``."""

    def __init__(self, message: str = "Some fields need attention.") -> None:
        super().__init__(message, code="form_invalid")


@dataclass
class Form:
    """What was typed (every value of every field) and what is wrong with it."""

    data: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # The model's and the domain's names for fields the form names otherwise.
    aliases: dict[str, str] = field(default_factory=dict)

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

    def problems(self) -> list[tuple[str, str]]:
        """Each field's message in the order the fields were posted (the page's order),
        fields that sent nothing (an unticked group) after them."""
        order = {name: n for n, name in enumerate(self.data)}
        return sorted(self.errors.items(), key=lambda item: order.get(item[0], len(order)))

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(next(iter(self.errors.values())))

    def text(self, name: str) -> str:
        return self.get(name).strip()

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
            data.setdefault(name, []).append(refuse_nul(value, field=name))
    return Form(data)


def apply_error(form: Form, exc: InvalidInput, *, rename: Mapping[str, str] | None = None,
                fallback: str = "form") -> None:
    """Put a domain refusal next to its field (``rename`` maps domain names to form
    names); a refusal of several values puts each problem next to its own field."""
    for problem in exc.problems if isinstance(exc, InvalidInputs) else (exc,):
        name = problem.field or fallback
        form.fail((rename or {}).get(name) or form.aliases.get(name, name), problem.message)
