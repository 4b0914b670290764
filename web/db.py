"""A database session per unit of work, from the app's engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session
from starlette.requests import HTTPConnection

from storage import events as storage_events
from storage import outbox
from storage.engine import session_scope
from web.events import publish_to_room
from web.mailer import nudge


@contextmanager
def db(conn: HTTPConnection) -> Iterator[Session]:
    """Commit on success, roll back on error (the error then becomes a response);
    after a commit, the events the work left for live rooms are published."""
    with session_scope(conn.app.state.engine) as session:
        yield session
        queued = storage_events.take(session)
        mailed = outbox.queued(session)
    for conference_id, event in queued:
        publish_to_room(conn.app, conference_id, event)
    if mailed:
        nudge(conn.app)


def undo(session: Session) -> None:
    """Roll back a refused unit of work, and forget the events it queued."""
    session.rollback()
    storage_events.take(session)
    outbox.queued(session)
