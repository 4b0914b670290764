"""The async shell of the live room: connections in, room events and media out.

One :class:`LiveRoom` per conference pairs the pure :class:`~signaling.room.Room`
with a :class:`~signaling.forwarding.MediaRouter`. Each connection reads frames
in order and has one writer task draining its own queue, so the messages of two
operations never interleave on one socket (the router's ``tracks`` + ``offer``
pairs included).

What the room needs from the rest of the system (the agenda, persisting the
current item and attendance) comes through :class:`RoomStore`, which ``web/``
implements with the database: this package never imports ``web``. The socket
is a :class:`Transport`, so tests and other servers can drive a room too.

Room ownership: with a shared backplane (Redis), one app instance hosts a
room's media. An instance that cannot claim the room refuses the connection
with close code 4409 so the load balancer (which must route by conference id)
can be fixed; proxying across instances is future work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from aiortc import RTCIceServer

from conference.errors import CasebridgeError
from signaling import errors
from signaling.bus import Backplane, room_channel
from signaling.forwarding import MediaRouter
from signaling.limits import RateLimiter
from signaling.protocol import (
    Advance,
    AgendaChanged,
    Answer,
    Candidate,
    ClientMessage,
    DecisionSigned,
    Denied,
    ErrorMessage,
    IceServer,
    Offer,
    ServerMessage,
    Tracks,
    dump,
    error_message,
    parse,
)
from signaling.protocol import Offer as ServerOffer
from signaling.room import Identity, Outgoing, Room, State

log = logging.getLogger(__name__)

CLOSE_REPLACED = 4001
CLOSE_DENIED = 4403
CLOSE_ELSEWHERE = 4409
OWNERSHIP_TTL = timedelta(seconds=15)


class Transport(Protocol):
    """One client connection's text frames."""

    async def send(self, text: str) -> None: ...

    async def receive(self) -> str | None:
        """The next text frame, or None once the client has gone."""
        ...

    async def close(self, code: int) -> None: ...


class RoomStore(Protocol):
    """What a live room reads from and writes to the conference's records."""

    async def agenda(self, conference_id: int) -> tuple[list[str], str | None, datetime | None]:
        """Agenda item ids, the current item and when it started."""
        ...

    async def advance(self, conference_id: int, user_id: str, item_id: str | None,
                      now: datetime) -> None:
        """Persist the new current item, or none (may refuse with a domain error)."""
        ...

    async def attendance(self, item_id: str, user_ids: frozenset[str], now: datetime) -> None:
        """Record that ``user_ids`` were in the room while ``item_id`` was current."""
        ...


@dataclass
class _Connection:
    participant_id: str
    transport: Transport
    limiter: RateLimiter = field(default_factory=RateLimiter)
    queue: asyncio.Queue[str | int] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None

    def send(self, message: ServerMessage) -> None:
        self.queue.put_nowait(dump(message))

    def close_after_queue(self, code: int) -> None:
        self.queue.put_nowait(code)

    async def write(self) -> None:
        while True:
            item = await self.queue.get()
            if isinstance(item, int):
                await self.transport.close(item)
                return
            await self.transport.send(item)


class LiveRoom:
    """One conference's room, its media router and its connections."""

    def __init__(self, conference_id: int, room: Room, store: RoomStore,
                 ice_servers: Sequence[RTCIceServer]) -> None:
        self.conference_id = conference_id
        self.room = room
        self.store = store
        self.connections: dict[str, _Connection] = {}
        self.router = MediaRouter(ice_servers=ice_servers, on_offer=self._offer)
        self.media: set[str] = set()  # participants with a peer connection
        self.renewer: asyncio.Task[None] | None = None
        self.listener: asyncio.Task[None] | None = None
        self.saved_attendance: dict[str, frozenset[str]] = {}

    async def _offer(self, participant_id: str, sdp: str, streams: dict[str, str]) -> None:
        conn = self.connections.get(participant_id)
        if conn is not None:
            conn.send(Tracks(streams=streams))
            conn.send(ServerOffer(sdp=sdp))

    def take_seat(self, identity: Identity) -> None:
        """A person has one seat: a new connection (a reconnect after a dropped
        network, or a second window) replaces the one already in the room, which
        would otherwise linger as a ghost until its socket times out."""
        for pid, conn in list(self.connections.items()):
            if self.room.identity_of(pid).user_id == identity.user_id:
                conn.close_after_queue(CLOSE_REPLACED)

    def deliver(self, outgoing: list[Outgoing]) -> None:
        for out in outgoing:
            conn = self.connections.get(out.to)
            if conn is not None:
                conn.send(out.message)
                if isinstance(out.message, Denied):
                    conn.close_after_queue(CLOSE_DENIED)

    async def handle(self, conn: _Connection, message: ClientMessage) -> None:
        pid = conn.participant_id
        now = datetime.now(UTC)
        match message:
            case Offer():
                self.room.ensure_present(pid)
                if pid not in self.media:
                    await self.router.add(pid)
                    self.media.add(pid)
                conn.send(Answer(sdp=await self.router.accept_offer(pid, message.sdp)))
            case Answer():
                self.room.ensure_present(pid)
                await self.router.accept_answer(pid, message.sdp)
            case Candidate():
                # aiortc gathers all candidates into the SDP and does not
                # trickle; a client's extra candidates are accepted and unused.
                self.room.ensure_present(pid)
            case Advance():
                if message.item_id is not None and not self.room.has_item(message.item_id):
                    # Added to the agenda after the room opened (a coordinator
                    # working while the meeting runs): read it again, once.
                    item_ids, _, _ = await self.store.agenda(self.conference_id)
                    self.room.update_agenda(item_ids)
                self.room.check_advance(pid)  # before the database hears of it
                if message.item_id != self.room.current_item_id:
                    identity = self.room.identity_of(pid)
                    await self.store.advance(self.conference_id, identity.user_id,
                                             message.item_id, now)
                self.deliver(self.room.handle(pid, message, now))
                await self.save_attendance(now)
            case _:
                was_present = self.room.state_of(pid) is State.PRESENT
                self.deliver(self.room.handle(pid, message, now))
                if was_present and self.room.state_of(pid) is not State.PRESENT:
                    await self._drop_media(pid)
                await self.save_attendance(now)

    async def _drop_media(self, pid: str) -> None:
        if pid in self.media:
            self.media.discard(pid)
            await self.router.remove(pid)

    async def save_attendance(self, now: datetime) -> None:
        """Store who attended the current item, when that changed (not on every
        mute or camera toggle: those arrive far more often than people do)."""
        item = self.room.current_item_id
        if item is None:
            return
        users = self.room.attendance().get(item, frozenset())
        if self.saved_attendance.get(item) != users:
            await self.store.attendance(item, users, now)
            self.saved_attendance[item] = users

    async def disconnect(self, conn: _Connection) -> None:
        pid = conn.participant_id
        self.deliver(self.room.disconnect(pid))
        self.connections.pop(pid, None)
        await self._drop_media(pid)
        if conn.writer is not None:
            conn.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await conn.writer

    async def close(self) -> None:
        for conn in list(self.connections.values()):
            with contextlib.suppress(Exception):
                await conn.transport.close(1001)
            await self.disconnect(conn)
        await self.router.close()


class Hub:
    """Every live room this app instance hosts."""

    def __init__(self, *, store: RoomStore, ice_servers: Sequence[IceServer] = (),
                 backplane: Backplane | None = None, instance_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ice_servers = tuple(ice_servers)
        self.backplane = backplane
        self.instance_id = instance_id or secrets.token_hex(8)
        self.clock = clock
        self.rooms: dict[int, LiveRoom] = {}
        self._lock = asyncio.Lock()

    def _rtc_ice_servers(self) -> list[RTCIceServer]:
        return [RTCIceServer(urls=s.urls if isinstance(s.urls, str) else list(s.urls),
                             username=s.username, credential=s.credential)
                for s in self.ice_servers]

    async def _room(self, conference_id: int) -> LiveRoom | None:
        async with self._lock:
            live = self.rooms.get(conference_id)
            if live is not None:
                return live
            key = f"conference:{conference_id}"
            if self.backplane is not None and not await self.backplane.claim(
                    key, self.instance_id, OWNERSHIP_TTL):
                return None
            item_ids, current, started = await self.store.agenda(conference_id)
            room = Room(str(conference_id), agenda_item_ids=item_ids,
                        ice_servers=self.ice_servers)
            room.restore_agenda(current, started)
            live = LiveRoom(conference_id, room, self.store, self._rtc_ice_servers())
            if self.backplane is not None:
                live.renewer = asyncio.create_task(self._renew(key))
                live.listener = asyncio.create_task(self._listen(conference_id, live))
            self.rooms[conference_id] = live
            return live

    async def _listen(self, conference_id: int, live: LiveRoom) -> None:
        """Relay the room's channel (decisions signed anywhere) to everyone present."""
        assert self.backplane is not None
        try:
            async with self.backplane.subscribe(room_channel(str(conference_id))) as events:
                async for payload in events:
                    await self._relay(live, payload)
        except asyncio.CancelledError:
            raise
        except Exception:  # the room goes on without live notices; say why in the log
            log.exception("live room %s: stopped listening to its channel", conference_id)

    async def _relay(self, live: LiveRoom, payload: dict[str, object]) -> None:
        if payload.get("type") == "agenda-changed":
            item_ids, _, _ = await self.store.agenda(live.conference_id)
            live.room.update_agenda(item_ids)
            live.deliver(live.room.announce(AgendaChanged()))
            return
        if payload.get("type") != "decision-signed":
            return
        try:
            message = DecisionSigned.model_validate(
                {k: payload.get(k) for k in ("item_id", "outcome", "revision")})
        except ValueError:
            log.warning("ignored a malformed room event: %r", payload)
            return
        live.deliver(live.room.announce(message))

    async def _renew(self, key: str) -> None:
        assert self.backplane is not None
        while True:
            await asyncio.sleep(OWNERSHIP_TTL.total_seconds() / 3)
            if not await self.backplane.renew(key, self.instance_id, OWNERSHIP_TTL):
                log.warning("lost ownership of %s", key)
                return

    async def serve(self, conference_id: int, identity: Identity, transport: Transport) -> None:
        """Run one connection from its first frame to its last."""
        live = await self._room(conference_id)
        if live is None:
            await transport.send(dump(ErrorMessage(
                code="invalid_state",
                message="This room is hosted by another Casebridge instance.")))
            await transport.close(CLOSE_ELSEWHERE)
            return
        conn = _Connection(secrets.token_urlsafe(12), transport)
        live.take_seat(identity)
        live.room.connect(conn.participant_id, identity)
        live.connections[conn.participant_id] = conn
        conn.writer = asyncio.create_task(conn.write())
        try:
            await self._read(live, conn)
        finally:
            await live.disconnect(conn)
            await live.save_attendance(datetime.now(UTC))
            if live.room.is_empty:
                await self._drop(conference_id, live)

    async def _read(self, live: LiveRoom, conn: _Connection) -> None:
        while (text := await conn.transport.receive()) is not None:
            if not conn.limiter.allow(self.clock()):
                conn.send(error_message(errors.RateLimited("slow down")))
                continue
            try:
                await live.handle(conn, parse(text))
            except (errors.SignalingError, CasebridgeError) as exc:
                conn.send(error_message(exc))
            except Exception:
                # A bug or a failing dependency (the database) must not cost the
                # person their seat: log it, say so, and read the next message.
                log.exception("live room %s: message failed", live.conference_id)
                conn.send(ErrorMessage(code="invalid_state",
                                       message="The server could not handle that message."))

    async def _drop(self, conference_id: int, live: LiveRoom) -> None:
        async with self._lock:
            if self.rooms.get(conference_id) is not live or not live.room.is_empty:
                return
            del self.rooms[conference_id]
        await live.router.close()
        await self._release(conference_id, live)

    async def _release(self, conference_id: int, live: LiveRoom) -> None:
        for task in (live.renewer, live.listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.backplane is not None:
            await self.backplane.release(f"conference:{conference_id}", self.instance_id)

    async def close(self) -> None:
        """Shut every room: sockets closed, peer connections closed, ownership released."""
        for conference_id, live in list(self.rooms.items()):
            await live.close()
            await self._release(conference_id, live)
        self.rooms.clear()

