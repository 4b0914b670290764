"""Text that enters Casebridge: one rule for every edge (API bodies, forms, sign-in).

A NUL character is never part of clinical text, a name or an address, and
PostgreSQL cannot store one in a text column: it is refused where text enters,
with the field it came in, instead of failing deep in the database.
"""

from __future__ import annotations

from conference.errors import InvalidInput

NUL = "\x00"


def holds_nul(value: object) -> bool:
    """Does ``value`` (text, or a list or mapping holding text) contain a NUL anywhere?"""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_nul(item) for item in value)
    return False


def refuse_nul(value: str, *, field: str | None = None) -> str:
    """``value`` unchanged, or :class:`InvalidInput` if it holds a NUL character."""
    if holds_nul(value):
        raise InvalidInput("Text may not contain a NUL character.", field=field,
                           code="invalid_text")
    return value
