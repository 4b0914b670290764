"""The backplane between app instances: an event bus and room ownership.

The embedded default is one process: ``InProcessBackplane`` (asyncio queues
and a dict). A hospital running several instances behind a load balancer sets
``CASEBRIDGE_REDIS_URL`` and gets ``RedisBackplane``; ``open_backplane`` picks
one from that URL.

Ownership: media of a room is forwarded by exactly one instance, its owner.
An instance ``claim``\\ s a room with a TTL and must ``renew`` it well before the
TTL runs out (e.g. TTL 15 s, renew every 5 s). ``renew`` returning ``False``
means the claim lapsed and another instance may own the room now: stop hosting
it. On Redis the claim is ``SET key instance NX PX ttl``; renew and release run
a Lua script that checks the owner and acts in one atomic step, so an instance
never extends or deletes a claim it lost (the Redlock single-instance pattern).

Events: ``publish`` sends a JSON-serialisable dict to every current subscriber
of a channel, at most once and in order per publisher; nothing is stored for
late subscribers (Redis pub/sub semantics, mirrored in-process). ``subscribe``
is an async context manager: once entered, the subscription is live, so a
``publish`` that follows is received::

    async with backplane.subscribe(room_channel(room_id)) as events:
        async for payload in events:
            ...
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from signaling.errors import BackplaneUnavailable

__all__ = [
    "Backplane",
    "EventBus",
    "InProcessBackplane",
    "InstanceLoad",
    "Payload",
    "RedisBackplane",
    "RoomOwnership",
    "open_backplane",
    "room_channel",
    "EVERY_ROOM",
]

Payload = dict[str, Any]


class EventBus(Protocol):
    """Fan-out of JSON payloads on named channels."""

    async def publish(self, channel: str, payload: Payload) -> None:
        """Deliver ``payload`` to every current subscriber of ``channel``."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[Payload]]:
        """Context manager yielding the channel's payloads as they arrive."""
        ...


class RoomOwnership(Protocol):
    """Which instance hosts the media of a room; claims expire after a TTL."""

    async def claim(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """Own the room if nobody does (or we already do); ``True`` on success."""
        ...

    async def owner(self, room_id: str) -> str | None:
        """The owning instance id, or ``None``."""
        ...

    async def renew(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """Extend our claim by ``ttl``, re-asserting it if it vanished (a Redis
        restart); ``False`` only if another instance owns the room now."""
        ...

    async def release(self, room_id: str, instance_id: str) -> bool:
        """Give the room up; ``False`` if we did not own it."""
        ...


class InstanceLoad(Protocol):
    """How many rooms each live instance hosts: where a room nobody hosts yet goes."""

    async def report_load(self, instance_id: str, rooms: int | None, ttl: timedelta) -> None:
        """This instance hosts ``rooms`` rooms, for ``ttl`` unless reported again;
        ``None``: it takes no rooms (it is draining or stopping)."""
        ...

    async def loads(self) -> dict[str, int]:
        """Every instance whose report has not run out, with its number of rooms."""
        ...


class Backplane(EventBus, RoomOwnership, InstanceLoad, Protocol):
    """Both halves, as one object the app lifespan opens and closes."""

    shared: bool  # other instances see it (Redis); in-process, this one alone

    async def aclose(self) -> None:
        """Release connections; the app lifespan calls it on shutdown."""
        ...


# The channel of events for every room (a conference id is digits, never this).
EVERY_ROOM = "every-room"


def room_channel(room_id: str) -> str:
    """The channel carrying the events of one room."""
    return f"room:{room_id}"


def open_backplane(url: str | None, *, prefix: str = "casebridge:") -> Backplane:
    """``None`` or empty: in-process; ``redis://``, ``rediss://``, ``unix://``: Redis."""
    if not url:
        return InProcessBackplane()
    scheme = urlsplit(url).scheme
    if scheme in {"redis", "rediss", "unix"}:
        return RedisBackplane.from_url(url, prefix=prefix)
    raise ValueError(f"unsupported backplane URL scheme {scheme!r} (expected redis://)")


def _millis(ttl: timedelta) -> int:
    millis = int(ttl.total_seconds() * 1000)
    if millis < 1:
        raise ValueError("ttl must be at least one millisecond")
    return millis


class _QueueIterator:
    def __init__(self, queue: asyncio.Queue[Payload]) -> None:
        self._queue = queue

    def __aiter__(self) -> _QueueIterator:
        return self

    async def __anext__(self) -> Payload:
        return await self._queue.get()


class InProcessBackplane:
    """One process: asyncio queues for events, a dict with deadlines for owners.

    ``clock`` is a monotonic time source in seconds (tests pass a fake one).
    """

    shared = False

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # Unbounded: subscribers are room loops that drain at once; a bound
        # would force choosing between blocking publishers and losing events.
        self._subscribers: defaultdict[str, set[asyncio.Queue[Payload]]] = defaultdict(set)
        self._owners: dict[str, tuple[str, float]] = {}  # room -> (instance, deadline)
        self._loads: dict[str, tuple[int, float]] = {}  # instance -> (rooms, deadline)

    async def publish(self, channel: str, payload: Payload) -> None:
        """Deliver a copy of ``payload`` to each subscriber's queue."""
        text = json.dumps(payload)  # same contract as Redis: JSON or TypeError
        for queue in self._subscribers.get(channel, ()):
            queue.put_nowait(json.loads(text))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Payload]]:
        """Yield an iterator over ``channel``; unsubscribes on exit."""
        queue: asyncio.Queue[Payload] = asyncio.Queue()
        self._subscribers[channel].add(queue)
        try:
            yield _QueueIterator(queue)
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def claim(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """Own ``room_id`` for ``ttl`` unless another instance holds it."""
        current = await self.owner(room_id)
        if current not in (None, instance_id):
            return False
        self._owners[room_id] = (instance_id, self._clock() + _millis(ttl) / 1000)
        return True

    async def owner(self, room_id: str) -> str | None:
        """The instance whose claim has not yet expired."""
        entry = self._owners.get(room_id)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._owners[room_id]
            return None
        return entry[0]

    async def renew(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """Extend our claim (taking it again if it lapsed); ``False`` if another owns it."""
        return await self.claim(room_id, instance_id, ttl)

    async def release(self, room_id: str, instance_id: str) -> bool:
        """Drop our claim; ``False`` if it was not ours."""
        if await self.owner(room_id) != instance_id:
            return False
        del self._owners[room_id]
        return True

    async def report_load(self, instance_id: str, rooms: int | None, ttl: timedelta) -> None:
        if rooms is None:
            self._loads.pop(instance_id, None)
        else:
            self._loads[instance_id] = (rooms, self._clock() + _millis(ttl) / 1000)

    async def loads(self) -> dict[str, int]:
        now = self._clock()
        return {instance: rooms for instance, (rooms, deadline) in self._loads.items()
                if deadline > now}

    async def aclose(self) -> None:
        """Nothing to release in-process."""


# KEYS[1] room key, ARGV[1] instance id, ARGV[2] ttl in ms. A missing key (Redis
# restarted, or the claim lapsed with nobody else taking it) is claimed again: the
# owner re-asserts its claim; another instance's key is never touched.
_RENEW = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not owner then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@contextmanager
def _map_redis_errors() -> Iterator[None]:
    """Translate redis-py failures at the boundary (one mapping)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise BackplaneUnavailable(f"redis: {exc}") from exc


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class _PubSubIterator:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    def __aiter__(self) -> _PubSubIterator:
        return self

    async def __anext__(self) -> Payload:
        while True:
            with _map_redis_errors():
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=None
                )
            if message is not None and message["type"] == "message":
                payload: Payload = json.loads(_text(message["data"]))
                return payload


HANDSHAKE_SECONDS = 5.0  # at most, waiting for a cancelled SUBSCRIBE to end
MAX_CONNECTIONS = 5000  # per process; Redis's own default limit is 10,000 clients


class RedisBackplane:
    """Several instances sharing one Redis: pub/sub events, expiring owner keys.

    Every key and channel starts with ``prefix`` so deployments (and tests)
    sharing a Redis do not see each other.
    """

    shared = True

    def __init__(self, client: redis.Redis, *, prefix: str = "casebridge:") -> None:
        self._client = client
        self._prefix = prefix
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "casebridge:") -> RedisBackplane:
        """Connect lazily to the Redis at ``url``. Each subscription holds a connection
        of its own (one an instance for the relay, one a hosted room), and publishes
        from many rooms run at once, so the pool is far larger than redis-py's
        default of 100 (which once stalled the 51st relayed socket)."""
        return cls(redis.Redis.from_url(url, decode_responses=True,
                                        max_connections=MAX_CONNECTIONS), prefix=prefix)

    def _key(self, room_id: str) -> str:
        return f"{self._prefix}room-owner:{room_id}"

    def _channel(self, channel: str) -> str:
        return f"{self._prefix}events:{channel}"

    async def ping(self) -> None:
        """Check that Redis answers (``BackplaneUnavailable`` if not)."""
        with _map_redis_errors():
            await self._client.ping()

    async def publish(self, channel: str, payload: Payload) -> None:
        """PUBLISH the payload as JSON."""
        text = json.dumps(payload)
        with _map_redis_errors():
            await self._client.publish(self._channel(channel), text)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Payload]]:
        """SUBSCRIBE on a dedicated connection; live once the server confirms."""
        pubsub = self._client.pubsub()
        handshake = asyncio.ensure_future(self._subscribed(pubsub, channel))
        try:
            try:
                await asyncio.shield(handshake)
            except asyncio.CancelledError:
                # redis-py 8.2: a PubSub cancelled in the middle of SUBSCRIBE never
                # closes (its aclose waits forever on its own lock), which hung a
                # room's shutdown. Let the handshake end first, then close.
                await asyncio.wait([handshake], timeout=HANDSHAKE_SECONDS)
                if handshake.done() and not handshake.cancelled():
                    handshake.exception()  # retrieved: the cancellation is what counts
                raise
            yield _PubSubIterator(pubsub)
        finally:
            await pubsub.aclose()

    async def _subscribed(self, pubsub: PubSub, channel: str) -> None:
        with _map_redis_errors():
            await pubsub.subscribe(self._channel(channel))
            await self._confirmed(pubsub)

    @staticmethod
    async def _confirmed(pubsub: PubSub) -> None:
        # Without waiting for the confirmation, a PUBLISH sent right after
        # could reach Redis before our SUBSCRIBE and be lost.
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is not None and message["type"] == "subscribe":
                return

    async def claim(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """SET NX PX; if the key exists and is ours, extend it instead."""
        with _map_redis_errors():
            # redis-py types SET for the sync and async clients at once.
            claimed = await cast(
                Awaitable[bool | None],
                self._client.set(self._key(room_id), instance_id, nx=True, px=_millis(ttl)),
            )
        return bool(claimed) or await self.renew(room_id, instance_id, ttl)

    async def owner(self, room_id: str) -> str | None:
        """GET the owner key."""
        with _map_redis_errors():
            value = await self._client.get(self._key(room_id))
        return None if value is None else _text(value)

    async def renew(self, room_id: str, instance_id: str, ttl: timedelta) -> bool:
        """PEXPIRE if the key names us, SET it again if it is gone (Lua, atomic);
        ``False`` only when another instance owns the room."""
        with _map_redis_errors():
            done = await self._renew(keys=[self._key(room_id)], args=[instance_id, _millis(ttl)])
        return bool(done)

    async def release(self, room_id: str, instance_id: str) -> bool:
        """DEL, only if the key still names us (Lua, atomic)."""
        with _map_redis_errors():
            done = await self._release(keys=[self._key(room_id)], args=[instance_id])
        return bool(done)

    def _load_key(self, instance_id: str) -> str:
        return f"{self._prefix}instance-load:{instance_id}"

    async def report_load(self, instance_id: str, rooms: int | None, ttl: timedelta) -> None:
        """SET the instance's count with PX ttl (DEL for ``None``)."""
        with _map_redis_errors():
            if rooms is None:
                await self._client.delete(self._load_key(instance_id))
            else:
                await self._client.set(self._load_key(instance_id), rooms, px=_millis(ttl))

    async def loads(self) -> dict[str, int]:
        """SCAN the load keys, MGET their counts (a key that ran out meanwhile is left
        out)."""
        prefix = self._load_key("")
        with _map_redis_errors():
            keys = [_text(k) async for k in self._client.scan_iter(match=prefix + "*",
                                                                   count=1000)]
            values = await self._client.mget(keys) if keys else []
        return {key[len(prefix):]: int(value)
                for key, value in zip(keys, values, strict=True) if value is not None}

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
