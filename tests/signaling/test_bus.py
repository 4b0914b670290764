"""The backplane: the same behaviour in-process and on a real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from signaling.bus import (
    Backplane,
    InProcessBackplane,
    Payload,
    RedisBackplane,
    open_backplane,
    room_channel,
)
from signaling.errors import BackplaneUnavailable

REDIS_URL = os.environ.get("CASEBRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TTL = timedelta(seconds=30)


@asynccontextmanager
async def _redis_backplane() -> AsyncIterator[RedisBackplane]:
    """A Redis backplane with a prefix of its own; fails loudly if Redis is down."""
    backplane = RedisBackplane.from_url(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}:")
    try:
        await backplane.ping()
    except BackplaneUnavailable as exc:
        await backplane.aclose()
        pytest.fail(f"Redis not reachable at {REDIS_URL} (scripts/prepare starts it): {exc}")
    try:
        yield backplane
    finally:
        client = backplane._client  # remove this test's keys, and only those
        async for key in client.scan_iter(match=f"{backplane._prefix}*"):
            await client.delete(key)
        await backplane.aclose()


@pytest.fixture
async def redis_backplane() -> AsyncIterator[RedisBackplane]:
    async with _redis_backplane() as backplane:
        yield backplane


@pytest.fixture(params=["in-process", "redis"])
async def backplane(request: pytest.FixtureRequest) -> AsyncIterator[Backplane]:
    """Each shared behaviour runs against both implementations."""
    if request.param == "in-process":
        yield InProcessBackplane()
        return
    async with _redis_backplane() as backplane:
        yield backplane


async def _next(events: AsyncIterator[Payload]) -> Payload:
    async with asyncio.timeout(2):
        return await anext(events)


async def _nothing_arrives(events: AsyncIterator[Payload]) -> bool:
    try:
        async with asyncio.timeout(0.1):
            await anext(events)
    except TimeoutError:
        return True
    return False


# ------------------------------------------------------------------ events


async def test_bus_delivers_in_order_to_every_subscriber(backplane: Backplane) -> None:
    channel = room_channel("conf-1")
    async with backplane.subscribe(channel) as first, backplane.subscribe(channel) as second:
        await backplane.publish(channel, {"n": 1, "to": "p1"})
        await backplane.publish(channel, {"n": 2, "nested": {"ok": [True, None]}})
        for events in (first, second):
            assert await _next(events) == {"n": 1, "to": "p1"}
            assert await _next(events) == {"n": 2, "nested": {"ok": [True, None]}}


async def test_bus_keeps_channels_apart(backplane: Backplane) -> None:
    async with backplane.subscribe("room:a") as events:
        await backplane.publish("room:b", {"n": 1})
        await backplane.publish("room:a", {"n": 2})
        assert await _next(events) == {"n": 2}


async def test_bus_stores_nothing_for_late_subscribers(backplane: Backplane) -> None:
    await backplane.publish("room:a", {"n": 1})
    async with backplane.subscribe("room:a") as events:
        assert await _nothing_arrives(events)


async def test_bus_refuses_non_json_payload(backplane: Backplane) -> None:
    with pytest.raises(TypeError):
        await backplane.publish("room:a", {"when": object()})


async def test_bus_in_process_hands_each_subscriber_a_copy() -> None:
    backplane = InProcessBackplane()
    payload: Payload = {"participants": ["p1"]}
    async with backplane.subscribe("c") as first, backplane.subscribe("c") as second:
        await backplane.publish("c", payload)
        payload["participants"].append("p2")
        received = await _next(first)
        received["participants"].append("p3")
        assert await _next(second) == {"participants": ["p1"]}


async def test_bus_in_process_unsubscribes_on_exit() -> None:
    backplane = InProcessBackplane()
    async with backplane.subscribe("c"):
        assert backplane._subscribers["c"]
    assert "c" not in backplane._subscribers
    await backplane.publish("c", {"n": 1})  # nobody listening: no error


async def test_bus_redis_unsubscribes_on_exit(redis_backplane: RedisBackplane) -> None:
    channel = redis_backplane._channel("c")
    async with redis_backplane.subscribe("c"):
        assert await redis_backplane._client.pubsub_numsub(channel) == [(channel, 1)]
    assert await redis_backplane._client.pubsub_numsub(channel) == [(channel, 0)]


async def test_bus_redis_prefixes_keep_deployments_apart(redis_backplane: RedisBackplane) -> None:
    async with _redis_backplane() as other, other.subscribe("room:a") as events:
        await redis_backplane.publish("room:a", {"n": 1})
        assert await redis_backplane.claim("r1", "instance-a", TTL)
        assert await other.owner("r1") is None
        assert await _nothing_arrives(events)


# ------------------------------------------------------------------ ownership


async def test_ownership_first_claim_wins(backplane: Backplane) -> None:
    assert await backplane.claim("r1", "instance-a", TTL)
    assert not await backplane.claim("r1", "instance-b", TTL)
    assert await backplane.owner("r1") == "instance-a"


async def test_ownership_claim_again_by_owner_succeeds(backplane: Backplane) -> None:
    assert await backplane.claim("r1", "instance-a", TTL)
    assert await backplane.claim("r1", "instance-a", TTL)
    assert await backplane.owner("r1") == "instance-a"


async def test_ownership_of_unclaimed_room_is_none(backplane: Backplane) -> None:
    assert await backplane.owner("r-none") is None


async def test_ownership_renew_only_by_owner(backplane: Backplane) -> None:
    await backplane.claim("r1", "instance-a", TTL)
    assert await backplane.renew("r1", "instance-a", TTL)
    assert not await backplane.renew("r1", "instance-b", TTL)
    assert await backplane.owner("r1") == "instance-a"
    # A claim that vanished (Redis restarted empty) is re-asserted by its renewal.
    assert await backplane.renew("r-gone", "instance-a", TTL)
    assert await backplane.owner("r-gone") == "instance-a"


async def test_ownership_release_only_by_owner(backplane: Backplane) -> None:
    await backplane.claim("r1", "instance-a", TTL)
    assert not await backplane.release("r1", "instance-b")
    assert await backplane.owner("r1") == "instance-a"
    assert await backplane.release("r1", "instance-a")
    assert await backplane.owner("r1") is None
    assert not await backplane.release("r1", "instance-a")
    assert await backplane.claim("r1", "instance-b", TTL)
    assert not await backplane.renew("r1", "instance-a", TTL)  # fenced: b owns it now


async def test_ownership_rejects_sub_millisecond_ttl(backplane: Backplane) -> None:
    with pytest.raises(ValueError):
        await backplane.claim("r1", "instance-a", timedelta(0))


async def test_ownership_in_process_claim_expires_after_ttl() -> None:
    now = [100.0]
    backplane = InProcessBackplane(clock=lambda: now[0])
    await backplane.claim("r1", "instance-a", timedelta(seconds=15))
    now[0] = 114.9
    assert await backplane.renew("r1", "instance-a", timedelta(seconds=15))
    now[0] = 129.8
    assert await backplane.owner("r1") == "instance-a"
    now[0] = 130.0
    assert await backplane.owner("r1") is None
    assert await backplane.claim("r1", "instance-b", timedelta(seconds=15))
    assert not await backplane.renew("r1", "instance-a", timedelta(seconds=15))


async def test_ownership_redis_claim_expires_after_ttl(redis_backplane: RedisBackplane) -> None:
    assert await redis_backplane.claim("r1", "instance-a", timedelta(milliseconds=50))
    await asyncio.sleep(0.15)
    assert await redis_backplane.owner("r1") is None
    assert await redis_backplane.claim("r1", "instance-b", TTL)
    assert not await redis_backplane.renew("r1", "instance-a", TTL)


async def test_ownership_redis_renew_extends_ttl(redis_backplane: RedisBackplane) -> None:
    await redis_backplane.claim("r1", "instance-a", timedelta(milliseconds=200))
    await redis_backplane.renew("r1", "instance-a", timedelta(seconds=60))
    ttl_ms = await redis_backplane._client.pttl(redis_backplane._key("r1"))
    assert 59_000 < ttl_ms <= 60_000


# ------------------------------------------------------------------ factory and failures


async def test_open_backplane_without_url_is_in_process() -> None:
    assert isinstance(open_backplane(None), InProcessBackplane)
    assert isinstance(open_backplane(""), InProcessBackplane)


async def test_open_backplane_with_redis_url_is_redis() -> None:
    backplane = open_backplane(REDIS_URL, prefix="unused:")
    try:
        assert isinstance(backplane, RedisBackplane)
    finally:
        await backplane.aclose()


def test_open_backplane_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        open_backplane("postgresql://db/casebridge")


async def test_backplane_redis_down_raises_unavailable() -> None:
    backplane = RedisBackplane.from_url("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        with pytest.raises(BackplaneUnavailable):
            await backplane.owner("r1")
        with pytest.raises(BackplaneUnavailable):
            async with backplane.subscribe("c"):
                pass
    finally:
        await backplane.aclose()


async def test_bus_a_subscriber_cancelled_at_any_step_closes(backplane: Backplane) -> None:
    """A room that closes while its listener is still subscribing must not hang
    (redis-py 8.2's PubSub, cancelled mid-SUBSCRIBE, never closed)."""
    for steps in range(40):
        async def listen() -> None:
            async with backplane.subscribe("room:closing") as events:
                async for _ in events:
                    pass

        task = asyncio.create_task(listen())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=5)
        assert done, f"cancelled after {steps} steps, it never closed"


async def test_load_reports_run_out_and_can_be_withdrawn(backplane: Backplane) -> None:
    await backplane.report_load("a", 2, timedelta(seconds=30))
    await backplane.report_load("b", 0, timedelta(milliseconds=50))
    assert await backplane.loads() == {"a": 2, "b": 0}
    await asyncio.sleep(0.1)
    assert await backplane.loads() == {"a": 2}  # b stopped reporting: it is gone
    await backplane.report_load("a", None, timedelta(seconds=30))  # a is draining
    assert await backplane.loads() == {}
