"""A room's signaling from any instance: a socket that lands on an instance that does
not host its room is relayed, frame by frame, over the backplane (Redis pub/sub) to the
instance that does.

The edge (where the socket is) asks the host to ``open`` a relayed connection; the host
registers it, says ``ready`` and serves it like a local socket (the same
:meth:`signaling.hub.Hub.serve`), so the SDP and ICE candidates the client receives are
the host's and media flows straight to the host. The edge then pumps frames both ways
until either side closes. Should the host stop owning the room (it died and its claim
ran out, or it is draining), the edge tells its client ``reconnect`` and closes with
1012: the client connects again and lands on the new host.

One channel an instance, ``instance:{id}``, carries everything sent to it: requests to
open, and frames for every relayed connection it hosts or is the edge of. Frames are
batched per destination: whatever one turn of the event loop sends to an instance
(an ``agenda`` to the hundred people relayed through it, say) goes in one publish, each
distinct text once. So a room event costs one publish per instance, not one per
socket, and each instance holds one subscription, not one per relayed socket.

A message is ``{"op": "open", "conn", "conference", "identity", "edge"}`` or
``{"op": "frames", "texts": [...], "items": [[conn, kind, value], ...]}`` with kind
``frame`` (value: an index into ``texts``), ``ready``, ``close`` (value: the close
code) or ``closed`` (the client went away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from signaling import errors
from signaling.bus import Backplane, Payload
from signaling.live_room import CLOSE_TOO_SLOW, Transport, put_bounded
from signaling.protocol import Reconnect, dump, error_message
from signaling.room import Identity

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5.0
OWNER_CHECK_SECONDS = 1.0
RETRY_SECONDS = 1.0  # listening again after the backplane went away
CLOSE_RECONNECT = 1012  # "service restart": the client connects again
CLOSE_UNAVAILABLE = 1013  # "try again later": the relay (the backplane) is unavailable
MAX_INBOX = 512  # frames waiting for one relayed connection before it is closed
MAX_OUTBOX = 8192  # frames waiting for one other instance before some are dropped

# What an inbox yields besides frames: the other side closed (``close``, with a
# code), the client went away (``closed``), or the relay broke (``lost``: the
# backplane is down; ``overflow``: this end fell too far behind).
Item = tuple[str, Any]


def instance_channel(instance_id: str) -> str:
    return f"instance:{instance_id}"


def identity_payload(identity: Identity) -> dict[str, Any]:
    return {"user_id": identity.user_id, "display_name": identity.display_name,
            "role": identity.role.value,
            "specialty": identity.specialty.value if identity.specialty else None,
            "conference_role": identity.conference_role.value
            if identity.conference_role else None,
            "item_ids": sorted(identity.item_ids), "guest_link_id": identity.guest_link_id}


def identity_from(payload: dict[str, Any]) -> Identity:
    return Identity(**payload)


class OpenRequest:
    """An edge's request that this instance serve a relayed connection."""

    def __init__(self, payload: Payload) -> None:
        self.conn_id = str(payload["conn"])
        self.conference_id = int(payload["conference"])
        self.identity = identity_from(payload["identity"])
        self.edge = str(payload["edge"])


class _Inbox:
    """What arrived for one relayed connection, in order, bounded: an end that falls
    ``MAX_INBOX`` behind gets ``overflow`` instead of a gap."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._overflowed = False

    def put(self, item: Item) -> None:
        if not self._overflowed:
            self._overflowed = not put_bounded(self._queue, item, MAX_INBOX, ("overflow", None))

    async def get(self) -> Item:
        return await self._queue.get()


class _Outbox:
    """Frames for one other instance, published in order and in batches."""

    def __init__(self, backplane: Backplane, channel: str,
                 on_lost: Callable[[list[str]], None]) -> None:
        self._backplane = backplane
        self._channel = channel
        self._on_lost = on_lost
        self._items: list[list[Any]] = []
        self._texts: dict[str, int] = {}
        self._flusher: asyncio.Task[None] | None = None

    def put(self, conn: str, kind: str, value: Any = None) -> None:
        if len(self._items) >= MAX_OUTBOX:  # the backplane is stalled: shed this one
            self._on_lost([conn])
            return
        if kind == "frame":
            value = self._texts.setdefault(value, len(self._texts))
        self._items.append([conn, kind, value])
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._items:
            await asyncio.sleep(0)  # let the rest of this turn's frames join the batch
            items, texts = self._items, list(self._texts)
            self._items, self._texts = [], {}
            try:
                await self._backplane.publish(self._channel, {
                    "op": "frames", "texts": texts, "items": items})
            except errors.BackplaneUnavailable as exc:
                log.warning("relay to %s: %d frame(s) lost with the backplane: %s",
                            self._channel, len(items), exc)
                self._on_lost(sorted({item[0] for item in items}))

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher


class RelayedTransport:
    """On the host: the edge's socket, as a :class:`~signaling.live_room.Transport`."""

    def __init__(self, outbox: _Outbox, conn_id: str, inbox: _Inbox) -> None:
        self._outbox = outbox
        self.conn_id = conn_id
        self._inbox = inbox
        self.closed = False

    async def send(self, text: str) -> None:
        if not self.closed:
            self._outbox.put(self.conn_id, "frame", text)

    async def receive(self) -> str | None:
        if self.closed:
            return None
        kind, value = await self._inbox.get()
        if kind == "frame":
            return str(value)
        self.closed = True  # the client is gone, or the relay broke
        return None

    async def close(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self._outbox.put(self.conn_id, "close", code)


class Relay:
    """This instance's end of every relayed connection, as host and as edge."""

    def __init__(self, backplane: Backplane, instance_id: str,
                 serve: Callable[[OpenRequest, Transport], Awaitable[None]]) -> None:
        self.backplane = backplane
        self.instance_id = instance_id
        self._serve = serve
        self._inboxes: dict[str, _Inbox] = {}  # relayed connections, either role
        self._edges: dict[str, Transport] = {}  # client sockets relayed from here
        self._outboxes: dict[str, _Outbox] = {}  # per other instance
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._served: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen on this instance's channel (once; the first call waits until the
        subscription is live, or has failed, so a claim never precedes it)."""
        if self._listener is None:
            self._ready.clear()
            self._listener = asyncio.create_task(self._listen())
        await self._ready.wait()

    async def _listen(self) -> None:
        """For as long as the instance lives; a backplane outage is waited out
        (retrying each second): rooms hosted here stay up, and relaying resumes once
        it is back. Connections relayed at the time are told ``lost``."""
        while True:
            try:
                async with self.backplane.subscribe(
                        instance_channel(self.instance_id)) as messages:
                    self._ready.set()
                    async for payload in messages:
                        self._dispatch(payload)
            except asyncio.CancelledError:
                raise
            except errors.BackplaneUnavailable:
                log.warning("the backplane is down: relayed joins wait until it is back")
            except Exception:
                log.exception("the relay's listener failed; starting again")
            finally:
                self._ready.set()  # never leave a claimant waiting
            self._lose(list(self._inboxes))
            await asyncio.sleep(RETRY_SECONDS)

    def _dispatch(self, payload: Payload) -> None:
        try:
            if payload["op"] == "open":
                self._open(OpenRequest(payload))
            elif payload["op"] == "frames":
                texts = payload["texts"]
                for conn, kind, value in payload["items"]:
                    if (inbox := self._inboxes.get(conn)) is not None:
                        inbox.put((kind, texts[value] if kind == "frame" else value))
            else:
                raise ValueError(payload["op"])
        except (KeyError, TypeError, ValueError, IndexError):
            log.warning("ignored a malformed relay message: %.200r", payload)

    def _lose(self, conns: list[str]) -> None:
        for conn in conns:
            if (inbox := self._inboxes.get(conn)) is not None:
                inbox.put(("lost", None))

    def _outbox(self, instance_id: str) -> _Outbox:
        outbox = self._outboxes.get(instance_id)
        if outbox is None:
            outbox = _Outbox(self.backplane, instance_channel(instance_id), self._lose)
            self._outboxes[instance_id] = outbox
        return outbox

    # As the host

    def _open(self, request: OpenRequest) -> None:
        inbox = self._inboxes[request.conn_id] = _Inbox()  # before ``ready``: frames follow it
        task = asyncio.create_task(self._serve_one(request, inbox))
        self._served.add(task)
        task.add_done_callback(self._served.discard)

    async def _serve_one(self, request: OpenRequest, inbox: _Inbox) -> None:
        outbox = self._outbox(request.edge)
        transport = RelayedTransport(outbox, request.conn_id, inbox)
        outbox.put(request.conn_id, "ready")
        try:
            await self._serve(request, transport)
        finally:
            await transport.close(CLOSE_RECONNECT)
            self._inboxes.pop(request.conn_id, None)

    # As the edge

    async def edge(self, *, owner: str, conference_id: int, identity: Identity,
                   transport: Transport,
                   still_hosted_by: Callable[[str], Awaitable[bool]]) -> None:
        """Carry one client socket to the room's host and back."""
        conn_id = secrets.token_urlsafe(12)
        inbox = self._inboxes[conn_id] = _Inbox()
        self._edges[conn_id] = transport
        try:
            await self._edge(conn_id, inbox, owner, conference_id, identity, transport,
                             still_hosted_by)
        finally:
            del self._inboxes[conn_id]
            self._edges.pop(conn_id, None)

    async def drain(self) -> None:
        """This instance stops: every client relayed from here is told ``reconnect`` and
        its socket closed with 1012, so it comes back through another instance (the
        server's own shutdown would close them with 1012 but without the message)."""
        for transport in list(self._edges.values()):
            with contextlib.suppress(Exception):  # a socket that closed meanwhile
                await transport.send(dump(Reconnect()))
                await transport.close(CLOSE_RECONNECT)

    async def _edge(self, conn_id: str, inbox: _Inbox, owner: str, conference_id: int,
                    identity: Identity, transport: Transport,
                    still_hosted_by: Callable[[str], Awaitable[bool]]) -> None:
        extra = {"conference_id": conference_id}
        try:
            await self.backplane.publish(instance_channel(owner), {
                "op": "open", "conn": conn_id, "conference": conference_id,
                "identity": identity_payload(identity), "edge": self.instance_id})
            kind, _ = await asyncio.wait_for(inbox.get(), READY_TIMEOUT_SECONDS)
        except errors.BackplaneUnavailable:
            kind = "lost"
        except TimeoutError:
            kind = "timeout"
        if kind == "lost":
            await _unavailable(transport)
            return
        if kind != "ready":
            log.warning("room %s: its host %s did not answer a relayed join", conference_id,
                        owner, extra=extra)
            await transport.send(dump(Reconnect()))
            await transport.close(CLOSE_RECONNECT)
            return
        outbox = self._outbox(owner)

        async def upward() -> None:
            try:
                while (text := await transport.receive()) is not None:
                    outbox.put(conn_id, "frame", text)
            finally:
                outbox.put(conn_id, "closed")

        async def downward() -> None:
            while True:
                kind, value = await inbox.get()
                if kind == "frame":
                    await transport.send(str(value))
                    continue
                if kind == "close":
                    await transport.close(int(value))
                elif kind == "overflow":
                    await transport.close(CLOSE_TOO_SLOW)
                else:  # "lost"
                    await _unavailable(transport)
                return

        async def watch() -> None:
            while True:
                await asyncio.sleep(OWNER_CHECK_SECONDS)
                try:
                    hosted = await still_hosted_by(owner)
                except errors.BackplaneUnavailable:
                    continue
                if not hosted:
                    log.info("room %s: its host %s is gone; the client reconnects",
                             conference_id, owner, extra=extra)
                    await transport.send(dump(Reconnect()))
                    await transport.close(CLOSE_RECONNECT)
                    return

        tasks = [asyncio.create_task(t()) for t in (upward, downward, watch)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if (exc := task.exception()) is not None:
                    raise exc
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in [self._listener, *self._served]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._listener = None
        for outbox in self._outboxes.values():
            await outbox.aclose()


async def _unavailable(transport: Transport) -> None:
    await transport.send(dump(error_message(errors.InvalidState(
        "The connection between Casebridge servers is down; reconnecting."))))
    await transport.close(CLOSE_UNAVAILABLE)
