"""Database errors translated into domain errors, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from conference.errors import Conflict


@contextmanager
def integrity_as_conflict(message: str) -> Iterator[None]:
    """Turn a unique or foreign-key violation into :class:`Conflict` with ``message``."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(message) from exc
