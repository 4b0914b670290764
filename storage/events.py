"""Events a unit of work leaves for the live rooms: an outbox kept in the session.

Repositories record what happened (a decision was signed) with :func:`record`;
whoever commits the session publishes them afterwards with :func:`take`, so a
rolled-back change never announces anything.
"""

from __future__ import annotations

from sqlmodel import Session

from conference.room_events import RoomEvent

_KEY = "casebridge.events"


def record(session: Session, *, conference_id: int | None, event: RoomEvent) -> None:
    """Queue ``event`` for the live room of ``conference_id`` (None: every room)."""
    session.info.setdefault(_KEY, []).append((conference_id, event))


def take(session: Session) -> list[tuple[int | None, RoomEvent]]:
    """Everything queued so far, emptying the queue."""
    queued: list[tuple[int | None, RoomEvent]] = session.info.pop(_KEY, [])
    return queued
