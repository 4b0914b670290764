"""A socket that does not read its messages never holds the room up: past a bound
its backlog is dropped and it is closed (4408), to reconnect and start afresh."""

from __future__ import annotations

import asyncio

from signaling.live_room import CLOSE_TOO_SLOW, MAX_QUEUED_MESSAGES, Connection
from signaling.protocol import Reconnect


class Stuck:
    """A transport whose client stopped reading: sends wait forever."""

    def __init__(self) -> None:
        self.closed: int | None = None

    async def send(self, text: str) -> None:
        await asyncio.Event().wait()

    async def receive(self) -> str | None:
        return None

    async def close(self, code: int) -> None:
        self.closed = code


async def test_a_consumer_that_falls_behind_is_closed_not_waited_for() -> None:
    overflows: list[int] = []
    transport = Stuck()
    conn = Connection("p1", transport, on_overflow=lambda: overflows.append(1))
    for _ in range(MAX_QUEUED_MESSAGES + 50):
        conn.send(Reconnect())  # never blocks, however far behind
    assert conn.overflowed and overflows == [1]
    assert conn.queue.qsize() == 1
    await conn.write()  # the writer finds only the close
    assert transport.closed == CLOSE_TOO_SLOW


async def test_a_consumer_that_keeps_up_loses_nothing() -> None:
    conn = Connection("p2", Stuck())
    for _ in range(MAX_QUEUED_MESSAGES - 1):
        conn.send(Reconnect())
    assert not conn.overflowed and conn.queue.qsize() == MAX_QUEUED_MESSAGES - 1
