"""The relay between instances, on the in-process backplane: one channel an instance,
frames batched per destination (a broadcast to many relayed sockets is one publish),
order kept, closes carried both ways, and a broken or stalled relay closes the
client with a code that makes it come back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from conference.people import Role
from signaling import errors, relay
from signaling.bus import InProcessBackplane, Payload
from signaling.live_room import CLOSE_TOO_SLOW, Transport
from signaling.relay import (
    CLOSE_RECONNECT,
    CLOSE_UNAVAILABLE,
    MAX_INBOX,
    OpenRequest,
    Relay,
    instance_channel,
)
from signaling.room import Identity

LEE = Identity(user_id="7", display_name="Dr Lee", role=Role.SPECIALIST)


class Backplane(InProcessBackplane):
    """The in-process backplane, keeping a log of what was published (and able to go
    down, as Redis does)."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Payload]] = []
        self.down = False
        self._gone = asyncio.Event()

    def go_down(self) -> None:
        self.down = True
        self._gone.set()  # every subscription breaks, as Redis connections do

    def come_back(self) -> None:
        self.down = False
        self._gone = asyncio.Event()

    async def publish(self, channel: str, payload: Payload) -> None:
        if self.down:
            raise errors.BackplaneUnavailable("redis is down")
        self.published.append((channel, payload))
        await super().publish(channel, payload)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Payload]]:
        if self.down:
            raise errors.BackplaneUnavailable("redis is down")
        async with super().subscribe(channel) as messages:
            yield self._until_down(messages, self._gone)

    @staticmethod
    async def _until_down(messages: AsyncIterator[Payload],
                          gone: asyncio.Event) -> AsyncIterator[Payload]:
        while True:
            message = asyncio.ensure_future(anext(messages))
            down = asyncio.ensure_future(gone.wait())
            await asyncio.wait({message, down}, return_when=asyncio.FIRST_COMPLETED)
            if down.done():
                message.cancel()
                raise errors.BackplaneUnavailable("redis went away")
            down.cancel()
            yield message.result()


@dataclass
class Socket:
    """A client's socket at the edge."""

    incoming: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    sent: list[str] = field(default_factory=list)
    closed: int | None = None
    stuck: bool = False  # stopped reading: sends wait until it reads again
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: bool = False

    async def send(self, text: str) -> None:
        if self.stuck:
            self.waiting = True
            await self.reading.wait()
        self.sent.append(text)

    async def receive(self) -> str | None:
        return await self.incoming.get()

    async def close(self, code: int) -> None:
        self.closed = code
        self.incoming.put_nowait(None)


@dataclass
class Pair:
    backplane: Backplane
    host: Relay
    edge: Relay
    served: list[Transport] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # what relayed clients sent the host
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def connect(self, socket: Socket) -> Transport:
        """A client at the edge, relayed to the host; its transport on the host."""
        count = len(self.served)
        self.tasks.append(asyncio.create_task(self.edge.edge(
            owner="host", conference_id=1, identity=LEE, transport=socket,
            still_hosted_by=_hosted)))
        await until(lambda: len(self.served) > count)
        return self.served[count]

    def to_edge(self) -> list[Payload]:
        return [p for c, p in self.backplane.published if c == instance_channel("edge")]


async def _hosted(owner: str) -> bool:
    return True


async def until(condition: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.005)
    await asyncio.wait_for(wait(), timeout)


@asynccontextmanager
async def relays() -> AsyncIterator[Pair]:
    backplane = Backplane()
    pair = Pair(backplane, host=None, edge=None)  # type: ignore[arg-type]

    async def serve(request: OpenRequest, transport: Transport) -> None:
        assert request.identity == LEE and request.edge == "edge"
        pair.served.append(transport)
        while (text := await transport.receive()) is not None:
            pair.said.append(text)

    pair.host = Relay(backplane, "host", serve)
    pair.edge = Relay(backplane, "edge", serve)
    await pair.host.start()
    await pair.edge.start()
    try:
        yield pair
    finally:
        for task in pair.tasks:
            task.cancel()
        await asyncio.gather(*pair.tasks, return_exceptions=True)
        await pair.host.aclose()
        await pair.edge.aclose()


async def test_a_broadcast_to_many_relayed_sockets_is_one_publish() -> None:
    async with relays() as pair:
        sockets = [Socket() for _ in range(50)]
        transports = [await pair.connect(s) for s in sockets]
        before = len(pair.to_edge())
        agenda = json.dumps({"type": "agenda", "current_item_id": "3"})
        for transport in transports:  # what one turn of the room's loop sends
            await transport.send(agenda)
        await until(lambda: all(s.sent == [agenda] for s in sockets))
        batches = pair.to_edge()[before:]
        assert len(batches) == 1
        assert batches[0]["texts"] == [agenda]  # the text once, not fifty times
        assert len(batches[0]["items"]) == 50


async def test_frames_arrive_in_order_both_ways() -> None:
    async with relays() as pair:
        socket = Socket()
        transport = await pair.connect(socket)
        for n in range(300):
            await transport.send(str(n))
            if n % 7 == 0:
                await asyncio.sleep(0)  # spread over several batches
        for n in range(100):
            socket.incoming.put_nowait(f"up {n}")
        await until(lambda: len(socket.sent) == 300 and len(pair.said) == 100)
        assert socket.sent == [str(n) for n in range(300)]
        assert pair.said == [f"up {n}" for n in range(100)]


async def test_closes_cross_both_ways() -> None:
    async with relays() as pair:
        socket = Socket()
        transport = await pair.connect(socket)
        await transport.close(4403)  # the host refuses the person
        await until(lambda: socket.closed == 4403)
        assert await transport.receive() is None

        leaving = Socket()
        await pair.connect(leaving)
        leaving.incoming.put_nowait(None)  # the client goes away
        await until(lambda: all(t.done() for t in pair.tasks))
        assert leaving.closed is None  # it closed itself; nothing to tell it


async def test_a_client_that_stops_reading_is_closed_to_come_back() -> None:
    async with relays() as pair:
        socket = Socket(stuck=True)
        transport = await pair.connect(socket)
        await transport.send("first")
        await until(lambda: socket.waiting)  # stuck sending the first frame
        for n in range(MAX_INBOX + 10):
            await transport.send(str(n))
        await asyncio.sleep(0.05)
        assert socket.closed is None
        socket.reading.set()  # it reads again: one frame, then the close, not a gap
        await until(lambda: socket.closed == CLOSE_TOO_SLOW)
        assert socket.sent == ["first"]


async def test_a_backplane_outage_closes_relayed_clients_with_try_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "RETRY_SECONDS", 0.05)
    async with relays() as pair:
        socket = Socket()
        transport = await pair.connect(socket)
        pair.backplane.go_down()
        await until(lambda: socket.closed == CLOSE_UNAVAILABLE)
        assert "servers is down" in json.loads(socket.sent[-1])["message"]
        assert await transport.receive() is None  # the host lets the seat go

        late = Socket()  # a join while it is down is told the same at once
        pair.tasks.append(asyncio.create_task(pair.edge.edge(
            owner="host", conference_id=1, identity=LEE, transport=late,
            still_hosted_by=_hosted)))
        await until(lambda: late.closed == CLOSE_UNAVAILABLE)

        pair.backplane.come_back()
        await asyncio.sleep(0.2)  # both listeners subscribe again
        again = Socket()
        transport = await pair.connect(again)
        await transport.send("back")
        await until(lambda: again.sent == ["back"])


async def test_a_host_that_does_not_answer_sends_the_client_to_reconnect(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "READY_TIMEOUT_SECONDS", 0.3)
    async with relays() as pair:
        socket = Socket()
        task = asyncio.create_task(pair.edge.edge(
            owner="nobody", conference_id=1, identity=LEE, transport=socket,
            still_hosted_by=_hosted))
        pair.tasks.append(task)
        await asyncio.sleep(0)
        assert not task.done()
        await until(lambda: socket.closed is not None)
        assert socket.closed == 1012
        assert json.loads(socket.sent[-1]) == {"type": "reconnect"}


async def test_malformed_messages_are_ignored() -> None:
    async with relays() as pair:
        for junk in ({"op": "frames", "texts": [], "items": [["x", "frame", 3]]},
                     {"op": "open"}, {"op": "what"}, {"nothing": 1},
                     {"op": "frames", "items": "no"}):
            await pair.backplane.publish(instance_channel("host"), junk)
        socket = Socket()
        transport = await pair.connect(socket)  # still serving
        await transport.send("fine")
        await until(lambda: socket.sent == ["fine"])


async def test_a_draining_edge_tells_its_relayed_clients_to_reconnect() -> None:
    """SIGTERM on the instance a client is relayed through: the client is told
    ``reconnect`` before its socket closes with 1012, as the host's own clients are."""
    async with relays() as pair:
        sockets = [Socket(), Socket()]
        for socket in sockets:
            await pair.connect(socket)
        await pair.edge.drain()
        for socket in sockets:
            assert [json.loads(text)["type"] for text in socket.sent] == ["reconnect"]
            assert socket.closed == CLOSE_RECONNECT
        await until(lambda: all(t.done() for t in pair.tasks))
