"""Closing what was left open: a live conference whose room has been empty past its
planned end (plus a grace) closes by itself, so nothing stays live for days.

Runs in the app's lifespan, once a minute. With several instances each one sweeps;
a room hosted by another instance counts as occupied (``Hub.occupied``), and closing
twice is harmless (the second finds the conference closed and skips it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlmodel import select
from starlette.applications import Starlette

from conference.conferences import ConferenceStatus
from conference.signoff import should_close
from storage import conferences
from storage import events as storage_events
from storage.engine import session_scope
from storage.tables import Conference
from web.background import in_thread
from web.events import publish_to_room

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(seconds=60)


def _overdue(app: Starlette, now: datetime, grace: timedelta) -> list[int]:
    with session_scope(app.state.engine) as session:
        live = session.exec(select(Conference).where(
            Conference.status == ConferenceStatus.LIVE)).all()
        return [c.id for c in live if c.id is not None and should_close(
            starts_at=c.starts_at, duration_minutes=c.duration_minutes, now=now,
            occupied=False, grace=grace)]


def _close(app: Starlette, conference_id: int, now: datetime) -> bool:
    with session_scope(app.state.engine) as session:
        conf = conferences.get_conference(session, conference_id)
        if conf.status is not ConferenceStatus.LIVE:
            return False
        conferences.set_status(session, actor=None, conference_id=conference_id,
                               status=ConferenceStatus.CLOSED, now=now)
        queued = storage_events.take(session)
    for target, event in queued:
        publish_to_room(app, target, event)
    return True


async def sweep(app: Starlette, *, now: datetime | None = None) -> list[int]:
    """Close every live conference past its end whose room is empty; their ids."""
    at = now or datetime.now(UTC)
    grace: timedelta = app.state.settings.auto_close_grace
    closed = []
    for conference_id in await in_thread(_overdue, app, at, grace):
        if await app.state.hub.occupied(conference_id):
            continue
        if await in_thread(_close, app, conference_id, at):
            log.info("conference %s closed by itself: its room was empty past its end",
                     conference_id)
            closed.append(conference_id)
    return closed


async def run(app: Starlette) -> None:
    while True:
        try:
            await sweep(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database outage must not end the sweeper
            log.exception("the sweeper failed; trying again in a minute")
        await asyncio.sleep(SWEEP_EVERY.total_seconds())
