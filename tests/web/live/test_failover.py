"""The meeting survives a dead server: two instances on PostgreSQL and Redis, the
room's host killed with SIGKILL, and the room back on the survivor with media flowing
within ten seconds."""

from __future__ import annotations

import pytest

from tests.servers import private_redis
from tests.web.live.failover import failover_once

FAILOVER_LIMIT_SECONDS = 10


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_failover_a_killed_host_is_replaced_within_ten_seconds(database_url: str) -> None:
    with private_redis() as rds:
        took = await failover_once(database_url, rds.url)
    assert took < FAILOVER_LIMIT_SECONDS, f"media back after {took:.1f} s"
