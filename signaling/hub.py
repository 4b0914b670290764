"""The registry of live rooms: which rooms this instance hosts, and relay between instances.

One :class:`~signaling.live_room.LiveRoom` per conference (connections, the pure
room and its media); the :class:`Hub` opens it on the first connection, closes it
after the last, relays room events from other instances (the backplane), and
owns the room's claim.

Room ownership: with a shared backplane (Redis), one app instance hosts a
room's media. A socket that lands on another instance is relayed to the host over
the backplane (:mod:`signaling.relay`): the load balancer may send any socket to
any instance. The host renews its claim every ``ownership_ttl / 3``; when it dies,
the claim runs out and the next connection (clients reconnect by themselves)
makes another instance the host.

Placement: a room nobody hosts yet goes to the live instance hosting the fewest
rooms (each reports its count to the backplane every ``ownership_ttl / 3``); the
socket that opens it is relayed there. So the N workers of ``casebridge serve
--workers N``, and a hospital's instances, share the rooms and forward their media
on every core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from aiortc import RTCIceServer

from conference import room_events
from conference.errors import CasebridgeError, InvalidInput
from signaling import errors, relay
from signaling.bus import EVERY_ROOM, Backplane, room_channel
from signaling.live_room import (
    Connection,
    LiveRoom,
    RoomStore,
    Transport,
)
from signaling.protocol import (
    AgendaChanged,
    DecisionSigned,
    IceServer,
    Reconnect,
    dump,
    error_message,
    parse,
)
from signaling.room import Identity, Room
from signaling.turn import TurnRelay

log = logging.getLogger(__name__)

CLOSE_FULL = 4429  # the room holds as many people as it may: try again when one leaves
DEFAULT_CAPACITY = 30  # people in one room (a case conference is rarely more than 20)
CLOSE_RECONNECT = 1012  # "service restart": not final, the client connects again
OWNERSHIP_TTL = timedelta(seconds=6)  # renewed every 2 s; a dead host is replaced after it


class Hub:
    """Every live room this app instance hosts."""

    def __init__(self, *, store: RoomStore, ice_servers: Sequence[IceServer] = (),
                 backplane: Backplane | None = None, instance_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 capacity: int = DEFAULT_CAPACITY, forwarding: str = "packets",
                 turn: TurnRelay | None = None,
                 ice_transport_policy: Literal["all", "relay"] = "all") -> None:
        self.store = store
        self.ice_transport_policy: Literal["all", "relay"] = ice_transport_policy
        self.turn = turn  # relays whose credentials each participant's welcome carries
        self.forwarding = forwarding  # how rooms forward media (MediaRouter)
        self.ice_servers = tuple(ice_servers)
        self.backplane = backplane
        self.instance_id = instance_id or secrets.token_hex(8)
        self.ownership_ttl = OWNERSHIP_TTL
        self.clock = clock
        self.capacity = capacity
        self.keyframe_requests = 0  # PLIs sent to publishers by every room, ever (metrics)
        self.queue_overflows = 0  # sockets closed for not reading their messages (metrics)
        self.bytes_forwarded = 0  # media payload bytes handed to subscribers (metrics)
        self.reconnections = 0  # joins that took over their person's earlier seat (metrics)
        self.message_seconds: Callable[[float], None] = lambda seconds: None  # (metrics)
        self.rooms: dict[int, LiveRoom] = {}
        self._lock = asyncio.Lock()
        self._everywhere: asyncio.Task[None] | None = None
        self.relay: relay.Relay | None = None  # connections relayed here and from here
        self._reporter: asyncio.Task[None] | None = None  # this instance's load, kept fresh
        self.draining = False  # SIGTERM: hand every room over, take none

    def _count_forwarded(self, size: int) -> None:
        self.bytes_forwarded += size

    def _count_overflow(self) -> None:
        self.queue_overflows += 1

    def _count_keyframe_request(self) -> None:
        self.keyframe_requests += 1

    def _turn_for(self, participant_id: str) -> tuple[IceServer, ...]:
        if self.turn is None:
            return ()
        return (self.turn.credential(participant_id, time.time()),)

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
            if self.backplane is not None:
                await self._listen_as_host()  # before the claim: edges may relay at once
                if not await self.backplane.claim(key, self.instance_id, self.ownership_ttl):
                    return None
            item_ids, current, started = await self.store.agenda(conference_id)
            room = Room(str(conference_id), agenda_item_ids=item_ids,
                        ice_servers=self.ice_servers, ice_servers_for=self._turn_for,
                        ice_transport_policy=self.ice_transport_policy)
            room.restore_agenda(current, started)
            live = LiveRoom(conference_id, room, self.store, self._rtc_ice_servers(),
                            on_keyframe_request=self._count_keyframe_request,
                            on_forward=self._count_forwarded, forwarding=self.forwarding)
            if self.backplane is not None:
                live.renewer = asyncio.create_task(self._renew(key, conference_id))
                live.listener = asyncio.create_task(self._listen(conference_id, live))
                if self._everywhere is None:
                    self._everywhere = asyncio.create_task(self._listen_everywhere())
            self.rooms[conference_id] = live
            log.info("live room %s opened here", conference_id,
                     extra={"conference_id": conference_id})
        await self._report_load()
        return live

    async def _listen(self, conference_id: int, live: LiveRoom) -> None:
        """Relay the room's channel (decisions signed anywhere) to everyone present."""
        assert self.backplane is not None
        try:
            async with self.backplane.subscribe(room_channel(str(conference_id))) as events:
                async for payload in events:
                    await self._relay_event(live, payload)
        except asyncio.CancelledError:
            raise
        except Exception:  # the room goes on without live notices; say why in the log
            log.exception("live room %s: stopped listening to its channel", conference_id,
                          extra={"conference_id": conference_id})

    async def _listen_everywhere(self) -> None:
        """Events for every room, from any instance: a person whose credentials were
        revoked loses every room socket on this instance at once."""
        assert self.backplane is not None
        try:
            async with self.backplane.subscribe(room_channel(EVERY_ROOM)) as events:
                async for payload in events:
                    try:
                        event = room_events.from_payload(payload)
                    except InvalidInput:
                        log.warning("ignored a malformed event for every room: %r", payload)
                        continue
                    if isinstance(event, room_events.AccessRevoked):
                        self.revoke(str(event.user_id))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stopped listening to the events for every room")

    async def _listen_as_host(self) -> None:
        """Serve the connections other instances relay here, and receive for those
        relayed from here (started once, before this instance first claims a room)."""
        if self.relay is None:
            assert self.backplane is not None
            self.relay = relay.Relay(self.backplane, self.instance_id, lambda request, transport:
                                     self.serve(request.conference_id, request.identity,
                                                transport, relayed=True))
        await self.relay.start()

    async def _hosted_by(self, conference_id: int, instance_id: str) -> bool:
        assert self.backplane is not None
        return await self.backplane.owner(f"conference:{conference_id}") == instance_id

    async def _placement(self, conference_id: int) -> str | None:
        """The instance a socket for this room goes to, if not this one: the room's
        host, or, for a room nobody hosts yet, the live instance hosting the fewest
        rooms (this one on a tie), so the workers of ``serve --workers N`` and the
        instances of a hospital share the rooms and their media between them."""
        if self.backplane is None or conference_id in self.rooms:
            return None
        owner = await self.backplane.owner(f"conference:{conference_id}")
        if owner is not None:
            return None if owner == self.instance_id else owner
        loads = await self.backplane.loads()
        loads[self.instance_id] = len(self.rooms)
        fewest = min(loads.values())
        if loads[self.instance_id] == fewest:
            return None
        return min(instance for instance, rooms in loads.items() if rooms == fewest)

    async def _report_load(self) -> None:
        """Tell the other instances how many rooms this one hosts (none while draining)."""
        if self.backplane is not None:
            with contextlib.suppress(errors.BackplaneUnavailable):
                await self.backplane.report_load(
                    self.instance_id, None if self.draining else len(self.rooms),
                    self.ownership_ttl * 2 / 3)  # gone before a dead host's claims are

    async def _keep_reporting(self) -> None:
        while True:
            await self._report_load()
            await asyncio.sleep(self.ownership_ttl.total_seconds() / 3)

    async def start(self) -> None:
        """With a shared backplane: serve relayed connections, and offer this
        instance for new rooms (the app's lifespan calls it; without it, an instance still hosts
        the rooms its own sockets open, but is never chosen for others)."""
        if self.backplane is not None and self.backplane.shared and self._reporter is None:
            await self._listen_as_host()
            self._reporter = asyncio.create_task(self._keep_reporting())

    async def _relay(self, conference_id: int, identity: Identity,
                     transport: Transport, owner: str | None = None) -> None:
        """This socket's room is hosted elsewhere (by ``owner``, when known): carry
        it there."""
        assert self.backplane is not None
        if owner is None:
            try:
                owner = await self.backplane.owner(f"conference:{conference_id}")
            except errors.BackplaneUnavailable:
                owner = None
        if owner is None or owner == self.instance_id:
            await transport.send(dump(error_message(errors.InvalidState(
                "The room's server cannot be reached just now; reconnecting."))))
            await transport.close(relay.CLOSE_UNAVAILABLE)
            return
        assert self.relay is not None  # started by _room, before it found the claim taken
        await self.relay.edge(
            owner=owner, conference_id=conference_id, identity=identity,
            transport=transport,
            still_hosted_by=lambda who: self._hosted_by(conference_id, who))

    async def occupied(self, conference_id: int) -> bool:
        """Whether anyone is in the conference's room: here, or on the instance that
        hosts it (a claim held elsewhere counts as occupied)."""
        live = self.rooms.get(conference_id)
        if live is not None:
            return bool(live.connections)
        if self.backplane is None:
            return False
        owner = await self.backplane.owner(f"conference:{conference_id}")
        return owner is not None and owner != self.instance_id

    def revoke(self, user_id: str) -> None:
        """Close every socket of ``user_id`` in the rooms this instance hosts."""
        for live in self.rooms.values():
            live.revoke(user_id)

    async def _relay_event(self, live: LiveRoom, payload: object) -> None:
        try:
            event = room_events.from_payload(payload)
        except InvalidInput:
            log.warning("ignored a malformed room event: %r", payload)
            return
        match event:
            case room_events.AgendaChanged():
                item_ids, _, _ = await self.store.agenda(live.conference_id)
                live.room.update_agenda(item_ids)
                live.deliver(live.room.announce(AgendaChanged()))
            case room_events.DecisionSigned(item_id, outcome, revision):
                live.deliver(live.room.announce(DecisionSigned(
                    item_id=str(item_id), outcome=outcome.value, revision=revision)))
            case room_events.GuestLinkRevoked(link_id):
                live.revoke_guest_link(link_id)
            case room_events.MeetingEnded():
                live.end_meeting()

    async def _renew(self, key: str, conference_id: int) -> None:
        """Keep the room's claim alive. Redis down: keep hosting and retry (nobody
        else can claim meanwhile); Redis back empty: the claim is re-asserted; the
        claim found with another instance: stop hosting here (the fence), so one
        room never runs on two instances."""
        assert self.backplane is not None
        while True:
            await asyncio.sleep(self.ownership_ttl.total_seconds() / 3)
            try:
                still_ours = await self.backplane.renew(key, self.instance_id,
                                                        self.ownership_ttl)
            except errors.BackplaneUnavailable:
                log.warning("cannot renew %s: the backplane is unreachable; retrying", key)
                continue
            if not still_ours:
                log.warning("%s is owned by another instance now: handing the room over", key,
                            extra={"conference_id": conference_id})
                asyncio.get_running_loop().create_task(self._surrender(conference_id))
                return

    async def _surrender(self, conference_id: int) -> None:
        """Stop hosting a room another instance now owns: every client is told
        ``reconnect`` and its socket closed (1012) so it connects again, media
        stops, nothing is released (the claim is not ours)."""
        async with self._lock:
            live = self.rooms.pop(conference_id, None)
        if live is None:
            return
        for conn in list(live.connections.values()):
            conn.send(Reconnect())
            conn.close_after_queue(CLOSE_RECONNECT)
        if live.listener is not None:
            live.listener.cancel()
        await live.router.close()
        await self._report_load()

    async def serve(self, conference_id: int, identity: Identity, transport: Transport, *,
                    relayed: bool = False) -> None:
        """Run one connection from its first frame to its last: here if this
        instance hosts (or can claim) the room, else relayed to the host."""
        if self.draining:
            # Shutting down: another instance hosts this room from now on.
            await transport.send(dump(Reconnect()))
            await transport.close(CLOSE_RECONNECT)
            return
        try:
            host = None if relayed else await self._placement(conference_id)
            live = await self._room(conference_id) if host is None else None
        except errors.BackplaneUnavailable:
            await transport.send(dump(error_message(errors.InvalidState(
                "The room cannot be opened while the servers' backplane is down."))))
            await transport.close(relay.CLOSE_UNAVAILABLE)
            return
        if live is None:
            if relayed:
                # Placed here, but another instance claimed the room first: the
                # client connects again and is relayed to that one.
                await transport.send(dump(Reconnect()))
                await transport.close(CLOSE_RECONNECT)
                return
            await self._relay(conference_id, identity, transport, host)
            return
        if not live.has_room_for(identity, self.capacity):
            await transport.send(dump(error_message(errors.RoomFull(
                f"This room is full ({self.capacity} people). Try again when someone "
                "leaves, or ask the chair."))))
            await transport.close(CLOSE_FULL)
            if live.room.is_empty:
                await self._drop(conference_id, live)
            return
        conn = Connection(secrets.token_urlsafe(12), transport,
                          on_overflow=self._count_overflow)
        self.reconnections += live.take_seat(identity)
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

    async def _read(self, live: LiveRoom, conn: Connection) -> None:
        while (text := await conn.transport.receive()) is not None:
            if not conn.limiter.allow(self.clock()):
                conn.send(error_message(errors.RateLimited("slow down")))
                continue
            try:
                started = time.perf_counter()
                await live.handle(conn, parse(text))
                self.message_seconds(time.perf_counter() - started)
            except (errors.SignalingError, CasebridgeError) as exc:
                conn.send(error_message(exc))
            except Exception:
                # A bug or a failing dependency (the database) must not cost the
                # person their seat: log it, say so, and read the next message.
                log.exception("live room %s: message failed", live.conference_id,
                              extra={"conference_id": live.conference_id})
                conn.send(error_message(errors.InvalidState(
                    "The server could not handle that message.")))

    async def _drop(self, conference_id: int, live: LiveRoom) -> None:
        async with self._lock:
            if self.rooms.get(conference_id) is not live or not live.room.is_empty:
                return
            del self.rooms[conference_id]
        await live.attendance_stored()
        await live.router.close()
        await self._release(conference_id, live)
        await self._report_load()

    async def _release(self, conference_id: int, live: LiveRoom) -> None:
        for task in (live.renewer, live.listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.backplane is not None:
            await self.backplane.release(f"conference:{conference_id}", self.instance_id)

    async def drain(self) -> None:
        """Before this instance stops (SIGTERM): take no more rooms, release each
        room's claim first (so another instance may host it at once), then tell every
        client ``reconnect`` and close its socket (1012): they come back through
        another instance. Peer connections are closed; the process may then exit."""
        self.draining = True
        await self._report_load()  # chosen for no new room from now on
        async with self._lock:
            rooms = list(self.rooms.items())
            self.rooms.clear()
        for conference_id, live in rooms:
            for task in (live.renewer, live.listener):
                if task is not None:
                    task.cancel()
            if self.backplane is not None:
                with contextlib.suppress(errors.BackplaneUnavailable):
                    await self.backplane.release(f"conference:{conference_id}",
                                                 self.instance_id)
            for conn in list(live.connections.values()):
                conn.send(Reconnect())
                conn.close_after_queue(CLOSE_RECONNECT)
        if self.relay is not None:
            await self.relay.drain()
        for _, live in rooms:
            await live.router.close()
        log.info("drained: %d room(s) handed over", len(rooms))

    async def close(self) -> None:
        """Shut every room: sockets closed, peer connections closed, ownership released."""
        if self._reporter is not None:
            self._reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reporter
            self._reporter = None
            self.draining = True
            await self._report_load()
        if self.relay is not None:
            await self.relay.aclose()
            self.relay = None
        if self._everywhere is not None:
            self._everywhere.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._everywhere
            self._everywhere = None
        for conference_id, live in list(self.rooms.items()):
            await live.close()
            await self._release(conference_id, live)
        self.rooms.clear()

