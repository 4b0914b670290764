"""The meeting survives a dead server: two instances on PostgreSQL and Redis, the
room's host killed with SIGKILL, and the room back on the survivor with media flowing
within ten seconds."""

from __future__ import annotations

import pytest

from tests.servers import private_redis
from tests.web.live.failover import drain_once, failover_once

FAILOVER_LIMIT_SECONDS = 10


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_failover_a_killed_host_is_replaced_within_ten_seconds(database_url: str) -> None:
    with private_redis() as rds:
        took = await failover_once(database_url, rds.url)
    assert took < FAILOVER_LIMIT_SECONDS, f"media back after {took:.1f} s"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_drain_hands_the_room_over_at_once_and_exits(database_url: str) -> None:
    with private_redis() as rds:
        back, exited = await drain_once(database_url, rds.url)
    # No waiting for the claim to run out: released on SIGTERM.
    assert back < 5, f"media back {back:.1f} s after SIGTERM"
    assert exited < 30, f"exited {exited:.1f} s after SIGTERM"
