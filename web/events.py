"""Publishing to a live room's channel from wherever a request runs.

Pages run on the event loop, API handlers in worker threads: either way the
event goes out on the app's loop, where the backplane lives (the in-process one
is plain asyncio; Redis connections belong to their loop too).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp

from conference.room_events import RoomEvent, to_payload
from signaling.bus import EVERY_ROOM, room_channel

log = logging.getLogger(__name__)


def publish_to_room(app: ASGIApp, conference_id: int | None, event: RoomEvent) -> None:
    """Hand ``event`` to the backplane for the conference's room (None: for every
    room, on every instance); never raises."""
    state = app.state  # type: ignore[attr-defined]
    loop: asyncio.AbstractEventLoop | None = getattr(state, "loop", None)
    if loop is None or loop.is_closed():
        return  # not serving (a test client without lifespan): nobody listens
    channel = room_channel(EVERY_ROOM if conference_id is None else str(conference_id))
    coroutine = state.backplane.publish(channel, to_payload(event))
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task = loop.create_task(coroutine)
        task.add_done_callback(_report)
    else:
        asyncio.run_coroutine_threadsafe(coroutine, loop).add_done_callback(_report)


def _report(done: Any) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("could not publish a room event", exc_info=done.exception())
