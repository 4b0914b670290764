"""A live room: one conference's connections, its pure room and its media router.

:class:`LiveRoom` pairs the pure :class:`~signaling.room.Room` with a
:class:`~signaling.forwarding.MediaRouter`. Each connection reads frames in
order and has one writer task draining its own queue, so the messages of two
operations never interleave on one socket (the router's ``tracks`` + ``offer``
pairs included).

What the room needs from the rest of the system (the agenda, persisting the
current item and attendance) comes through :class:`RoomStore`, which ``web/``
implements with the database: this package never imports ``web``. The socket
is a :class:`Transport`, so tests and other servers can drive a room too.
Which instance hosts which room is :mod:`signaling.hub`'s concern.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from aiortc import RTCIceServer

from signaling.forwarding import MediaRouter
from signaling.limits import RateLimiter
from signaling.protocol import (
    Advance,
    Answer,
    Candidate,
    Chat,
    ChatLine,
    ChatMessage,
    ClientMessage,
    Denied,
    Offer,
    ServerMessage,
    Tracks,
    VideoPaused,
    dump,
)
from signaling.protocol import Offer as ServerOffer
from signaling.room import Identity, Outgoing, Room, State

log = logging.getLogger(__name__)

CLOSE_REPLACED = 4001  # the same person joined again elsewhere
CLOSE_DENIED = 4403  # the chair denied a guest
CLOSE_REVOKED = 4401  # the person's credentials were revoked: sign in again
CLOSE_ENDED = 4410  # the conference was closed: the meeting is over


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

    async def chat(self, conference_id: int, user_id: str, item_id: str | None, body: str,
                   now: datetime) -> ChatMessage:
        """Store a chat line in the thread of ``item_id``'s case (or with the
        conference, with no item current); may refuse with a domain error."""
        ...


T = TypeVar("T")

MAX_QUEUED_MESSAGES = 256  # a socket this far behind is not reading: it starts afresh
CLOSE_TOO_SLOW = 4408  # not final: the client reconnects and is sent the room anew


def put_bounded(queue: asyncio.Queue[T], item: T, limit: int, instead: T) -> bool:
    """Queue ``item``, unless ``limit`` items wait already: then drop them all and queue
    ``instead``, so the consumer starts afresh rather than reading a gap. ``False``
    when that happened."""
    if queue.qsize() >= limit:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(instead)
        return False
    queue.put_nowait(item)
    return True


@dataclass
class Connection:
    """One socket: its messages queue here and one writer task sends them in order,
    so a slow consumer never blocks the room. A consumer that falls
    ``MAX_QUEUED_MESSAGES`` behind has its backlog dropped and is closed (4408): it
    reconnects and gets the room's state afresh, rather than a gap in it."""

    participant_id: str
    transport: Transport
    limiter: RateLimiter = field(default_factory=RateLimiter)
    queue: asyncio.Queue[str | int] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    on_overflow: Callable[[], None] = lambda: None
    overflowed: bool = False

    def send(self, message: ServerMessage, text: str | None = None) -> None:
        """Queue ``message`` (``text``: its JSON, when the caller has it already)."""
        if self.overflowed:
            return
        if not put_bounded(self.queue, text if text is not None else dump(message),
                           MAX_QUEUED_MESSAGES, CLOSE_TOO_SLOW):
            self.overflowed = True
            self.on_overflow()

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
                 ice_servers: Sequence[RTCIceServer],
                 on_keyframe_request: Callable[[], None] = lambda: None,
                 on_forward: Callable[[int], None] = lambda size: None,
                 forwarding: str = "packets") -> None:
        self.conference_id = conference_id
        self.room = room
        self.store = store
        self.connections: dict[str, Connection] = {}
        self._attendance_lock = asyncio.Lock()
        self.router = MediaRouter(ice_servers=ice_servers, on_offer=self._offer,
                                  on_keyframe_request=on_keyframe_request,
                                  on_forward=on_forward, forwarding=forwarding,
                                  on_paused=self._paused)
        self.media: set[str] = set()  # participants with a peer connection
        self.renewer: asyncio.Task[None] | None = None
        self.listener: asyncio.Task[None] | None = None
        self.saved_attendance: dict[str, frozenset[str]] = {}
        self._saver: asyncio.Task[None] | None = None  # attendance, written off the path
        self._save_again = False

    async def _offer(self, participant_id: str, sdp: str, streams: dict[str, str]) -> None:
        conn = self.connections.get(participant_id)
        if conn is not None:
            conn.send(Tracks(streams=streams))
            conn.send(ServerOffer(sdp=sdp))

    def _paused(self, participant_id: str, streams: dict[str, str]) -> None:
        conn = self.connections.get(participant_id)
        if conn is not None:
            conn.send(VideoPaused(streams=streams))  # type: ignore[arg-type]

    def has_room_for(self, identity: Identity, capacity: int) -> bool:
        """Whether one more connection fits: a person already seated always does (their
        new connection replaces the old one, see :meth:`take_seat`)."""
        if len(self.connections) < capacity:
            return True
        return any(self.room.identity_of(pid).user_id == identity.user_id
                   for pid in self.connections)

    def take_seat(self, identity: Identity) -> int:
        """A person has one seat: a new connection (a reconnect after a dropped
        network, or a second window) replaces the one already in the room, which
        would otherwise linger as a ghost until its socket times out. Returns how
        many connections were replaced."""
        replaced = 0
        for pid, conn in list(self.connections.items()):
            if self.room.identity_of(pid).user_id == identity.user_id:
                conn.close_after_queue(CLOSE_REPLACED)
                replaced += 1
        return replaced

    def revoke(self, user_id: str) -> None:
        """Close this person's sockets here (signed out everywhere, deactivated)."""
        for pid, conn in list(self.connections.items()):
            if self.room.identity_of(pid).user_id == user_id:
                conn.close_after_queue(CLOSE_REVOKED)

    def revoke_guest_link(self, link_id: int) -> None:
        """Close the sockets of whoever came by this guest link (it was revoked)."""
        for pid, conn in list(self.connections.items()):
            if self.room.identity_of(pid).guest_link_id == link_id:
                conn.close_after_queue(CLOSE_REVOKED)

    def end_meeting(self) -> None:
        """The conference was closed: every connection is closed, with the reason."""
        for conn in list(self.connections.values()):
            conn.close_after_queue(CLOSE_ENDED)

    def deliver(self, outgoing: list[Outgoing]) -> None:
        texts: dict[int, str] = {}  # a broadcast is serialised once, not once a socket
        for out in outgoing:
            conn = self.connections.get(out.to)
            if conn is not None:
                key = id(out.message)
                if key not in texts:
                    texts[key] = dump(out.message)
                conn.send(out.message, texts[key])
                if isinstance(out.message, Denied):
                    conn.close_after_queue(CLOSE_DENIED)

    async def handle(self, conn: Connection, message: ClientMessage) -> None:
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
            case Chat():
                who = self.room.check_chat(pid)
                line = await self.store.chat(self.conference_id, who.user_id,
                                             self.room.current_item_id, message.body, now)
                self.deliver(self.room.announce(ChatLine(message=line)))
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
                await self.follow_room()
            case _:
                self.deliver(self.room.handle(pid, message, now))
                await self.follow_room()

    async def follow_room(self) -> None:
        """After the room changed: media only for who is in it (a guest sent back to
        the lobby stops sending and receiving at once), attendance stored soon."""
        for pid in list(self.media):
            if pid not in self.room or self.room.state_of(pid) is not State.PRESENT:
                await self._drop_media(pid)
        self.save_attendance_soon()

    def save_attendance_soon(self) -> None:
        """Store attendance in the background, changes that arrive meanwhile folded
        into one more write: the sender's next message does not wait for the
        database (a chair's next ``advance`` waited up to 0.2 s for the last one's
        write in a room of 200, bench/fanout.py)."""
        if self._saver is None or self._saver.done():
            self._saver = asyncio.create_task(self._save_while_changed())
        else:
            self._save_again = True

    async def _save_while_changed(self) -> None:
        while True:
            self._save_again = False
            try:
                await self.save_attendance(datetime.now(UTC))
            except Exception:  # kept unsaved: the next change, or the last leave, retries
                log.exception("live room %s: attendance not stored", self.conference_id,
                              extra={"conference_id": self.conference_id})
            if not self._save_again:
                return

    async def _drop_media(self, pid: str) -> None:
        if pid in self.media:
            self.media.discard(pid)
            await self.router.remove(pid)

    async def save_attendance(self, now: datetime) -> None:
        """Store who attended the current item, when that changed (not on every
        mute or camera toggle: those arrive far more often than people do)."""
        # One write at a time: two connections' messages may both land here, and
        # two concurrent first writes for one person would both insert the row.
        async with self._attendance_lock:
            item = self.room.current_item_id
            if item is None:
                return
            users = self.room.attendance().get(item, frozenset())
            if self.saved_attendance.get(item) != users:
                await self.store.attendance(item, users, now)
                self.saved_attendance[item] = users

    async def disconnect(self, conn: Connection) -> None:
        pid = conn.participant_id
        self.deliver(self.room.disconnect(pid))
        self.connections.pop(pid, None)
        await self._drop_media(pid)
        if conn.writer is not None:
            conn.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await conn.writer

    async def attendance_stored(self) -> None:
        """Wait for the attendance write in flight, if any (before the room closes)."""
        if self._saver is not None:
            with contextlib.suppress(Exception):
                await self._saver

    async def close(self) -> None:
        await self.attendance_stored()
        for conn in list(self.connections.values()):
            with contextlib.suppress(Exception):
                await conn.transport.close(1001)
            await self.disconnect(conn)
        await self.router.close()
