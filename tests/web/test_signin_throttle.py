"""Throttling sign-in by account and by client address, on a real server.

Issue 8: twelve concurrent wrong passwords were all checked while the failure
counter rose by one (item 4); five wrong tries from anywhere locked anyone out,
and only existing addresses answered with delays and "locked" (item 5).
The server runs on its own loop so attempts really overlap; uvicorn takes the
client address from ``X-Forwarded-For`` sent from loopback, as behind a proxy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx2
import pytest

from conference.people import Role
from conference.signin import ADDRESS_MAX_FAILURES, MAX_FAILURES
from storage import users
from storage.engine import make_engine, session_scope
from tests.web.flood import serving

BOTH_BACKENDS = True
TOKEN = "/api/v1/auth/token"
OWNER = "owner@throttle.example"
PASSWORD = "the owner's own password"


@pytest.fixture
def base(database_url: str) -> Iterator[str]:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        users.create_user(session, email=OWNER, name="Owen Owner", role=Role.ADMIN,
                          password=PASSWORD)
    engine.dispose()
    with serving(database_url) as url:
        yield url


def _from(address: str) -> dict[str, str]:
    return {"x-forwarded-for": address}


async def _attempt(client: httpx2.AsyncClient, email: str, password: str,
                   address: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    response = await client.post(TOKEN, json={"email": email, "password": password},
                                 headers=_from(address))
    return response.status_code, response.json()["error"]["message"] \
        if response.status_code != 200 else "", time.perf_counter() - start


async def test_signin_concurrent_guesses_are_counted_before_checking(base: str) -> None:
    async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
        answers = await asyncio.gather(*(
            _attempt(client, OWNER, f"guess {n}", "203.0.113.9") for n in range(12)))
    statuses = sorted(status for status, _, _ in answers)
    # Only the first MAX_FAILURES guesses reach the password check; the rest wait.
    assert statuses == [401] * MAX_FAILURES + [429] * (12 - MAX_FAILURES), statuses


async def test_signin_attacker_is_slowed_not_the_owner_and_unknown_looks_the_same(
        base: str) -> None:
    async def six_wrong(email: str, address: str) -> list[tuple[int, str, float]]:
        return [await _attempt(client, email, "wrong password", address)
                for _ in range(MAX_FAILURES + 1)]

    async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
        known, unknown = await asyncio.gather(six_wrong(OWNER, "203.0.113.9"),
                                              six_wrong("nobody@throttle.example",
                                                        "203.0.113.10"))
        # The same answers, one by one, and about the same waits.
        assert [(s, m) for s, m, _ in known] == [(s, m) for s, m, _ in unknown]
        assert [s for s, _, _ in known] == [401] * MAX_FAILURES + [429]
        for (_, _, waited), (_, _, waited_unknown) in zip(known, unknown, strict=True):
            assert abs(waited - waited_unknown) < 0.5, (known, unknown)
        # The owner, elsewhere, is not locked out by the attacker's failures.
        status, _, _ = await _attempt(client, OWNER, PASSWORD, "198.51.100.7")
        assert status == 200
        # The attacker still is.
        status, _, _ = await _attempt(client, OWNER, PASSWORD, "203.0.113.9")
        assert status == 429


async def test_signin_one_address_guessing_many_accounts_is_stopped(base: str) -> None:
    async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
        answers = await asyncio.gather(*(
            _attempt(client, f"person{n}@throttle.example", "password1", "203.0.113.9")
            for n in range(ADDRESS_MAX_FAILURES + 5)))
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [401] * ADDRESS_MAX_FAILURES + [429] * 5, statuses
        # Someone at another address is unaffected.
        status, _, _ = await _attempt(client, OWNER, PASSWORD, "198.51.100.7")
        assert status == 200
