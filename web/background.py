"""Background work in a thread that finishes even when its task is cancelled.

The app's background tasks (the sweeper, the mail sender) run their database work
in threads. Cancelling a task at shutdown does not stop its thread: with plain
``asyncio.to_thread`` the app would go on to dispose of the engine while the
thread still holds a connection, which then belongs to no pool and is dropped
unclosed. :func:`in_thread` lets the thread finish (holding off the
cancellation) before the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread``, except that a cancelled caller waits for the thread."""
    work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await work
        raise
