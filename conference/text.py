"""Text that enters Casebridge: one rule for every edge (API bodies, forms, sign-in).

A NUL character is never part of clinical text, a name or an address, and
PostgreSQL cannot store one in a text column: it is refused where text enters,
with the field it came in, instead of failing deep in the database.
"""

from __future__ import annotations

from conference.errors import InvalidInput

NUL = "\x00"


def refuse_nul(value: str, *, field: str | None = None) -> str:
    """``value`` unchanged, or :class:`InvalidInput` if it holds a NUL character."""
    if NUL in value:
        raise InvalidInput("Text may not contain a NUL character.", field=field,
                           code="invalid_text")
    return value
