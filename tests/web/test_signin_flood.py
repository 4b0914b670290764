"""A flood of bad sign-ins must not freeze the server (issue: twenty concurrent
bad logins stopped every other request, room sockets included, for minutes)."""

from __future__ import annotations

from tests.web.flood import flood, serving

BOTH_BACKENDS = True  # the pool that ran dry was PostgreSQL's


async def test_signin_flood_leaves_the_server_answering(database_url: str) -> None:
    with serving(database_url) as base:
        result = await flood(base, logins=40, probes=5, probe_path="/healthz")
        pages = await flood(base, logins=40, probes=3, probe_path="/login")
    assert sorted(set(result.statuses + pages.statuses)) == [401]  # no 500, no pool timeout
    # A frozen server answered after minutes; a healthy one in milliseconds. The
    # bound leaves room for a busy shared machine: the figures live in
    # bench/signin_flood.py.
    assert max(result.probe_seconds + pages.probe_seconds) < 2, (result, pages)
