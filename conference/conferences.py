"""A conference: a scheduled meeting of the spine team, and its life cycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from conference.errors import InvalidInput
from conference.states import require_transition


class ConferenceStatus(StrEnum):
    """A conference's life: prepared, announced, held, over."""

    DRAFT = "draft"
    PUBLISHED = "published"
    LIVE = "live"
    CLOSED = "closed"


# draft -> published -> live -> closed. A published conference can go back to
# draft (the coordinator reopens the agenda) or be closed unheld (cancelled).
CONFERENCE_TRANSITIONS = {
    ConferenceStatus.DRAFT: frozenset({ConferenceStatus.PUBLISHED}),
    ConferenceStatus.PUBLISHED: frozenset(
        {ConferenceStatus.DRAFT, ConferenceStatus.LIVE, ConferenceStatus.CLOSED}
    ),
    ConferenceStatus.LIVE: frozenset({ConferenceStatus.CLOSED}),
    ConferenceStatus.CLOSED: frozenset[ConferenceStatus](),
}

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 12 * 60


def check_conference(*, title: str, starts_at: datetime, duration_minutes: int) -> None:
    """A conference needs a title, a start with a time zone and a sane length."""
    if not title.strip():
        raise InvalidInput("A title is required.", field="title")
    if len(title) > 200:
        raise InvalidInput("A title is at most 200 characters.", field="title")
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise InvalidInput(
            "The start time needs a time zone offset, e.g. 2026-12-01T07:30:00-05:00.",
            field="starts_at",
        )
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidInput(
            f"A conference lasts {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes.",
            field="duration_minutes",
        )


def move_conference(current: ConferenceStatus, target: ConferenceStatus) -> ConferenceStatus:
    """Return ``target`` if a conference may move there from ``current``."""
    require_transition("conference", CONFERENCE_TRANSITIONS, current, target)
    return target
