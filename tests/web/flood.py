"""A sign-in flood against a real server, and how long other requests wait meanwhile.

Used by the flood test (which asserts the server keeps answering) and by
``bench/signin_flood.py`` (which prints the figures).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2
import uvicorn

from tests.ports import free_port
from web.app import create_app
from web.settings import Settings


@contextmanager
def serving(database_url: str) -> Iterator[str]:
    """The app on its own thread and event loop (as in production: one process,
    its own loop), yielding its base URL."""
    app = create_app(Settings(database_url=database_url, secret_key="flood-test-secret"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, name="flood-server", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


@dataclass
class Flood:
    statuses: list[int]           # of the bad sign-ins
    probe_seconds: list[float]    # each probe's wait while they ran


async def flood(base: str, *, logins: int = 40, probes: int = 5,
                probe_path: str = "/healthz") -> Flood:
    """``logins`` concurrent wrong passwords for unknown addresses; meanwhile
    ``probes`` requests to ``probe_path``, one after another, each timed."""
    limits = httpx2.Limits(max_connections=logins + 5)
    async with httpx2.AsyncClient(base_url=base, timeout=900, limits=limits) as client:
        async def bad_login(n: int) -> int:
            # Each from an address of its own (uvicorn reads X-Forwarded-For from
            # loopback), as a distributed attack would: then every attempt is checked.
            response = await client.post("/api/v1/auth/token", json={
                "email": f"nobody{n}@flood.example", "password": "wrong password"},
                headers={"x-forwarded-for": f"198.18.{n // 250}.{n % 250 + 1}"})
            return response.status_code

        async def probe() -> list[float]:
            await asyncio.sleep(0.3)  # the flood is under way
            waits = []
            for _ in range(probes):
                start = time.perf_counter()
                response = await client.get(probe_path)
                waits.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
                await asyncio.sleep(0.1)
            return waits

        results = await asyncio.gather(probe(), *(bad_login(n) for n in range(logins)))
    waits, statuses = results[0], results[1:]
    assert isinstance(waits, list)
    return Flood(statuses=[s for s in statuses if isinstance(s, int)], probe_seconds=waits)
