"""A failover, end to end, for the test and for ``bench/failover.py``: two instances on
one database and one Redis, the room hosted by the first (a separate process), a client
on each; the host is killed with SIGKILL, and the time is measured until media flows
again between the two clients, now both on the survivor (they reconnect when told to,
as the browser does by itself)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from aiortc.mediastreams import AudioStreamTrack
from sqlmodel import select
from starlette.applications import Starlette

from signaling.client import RoomClient
from storage.demo import load_demo
from storage.engine import make_engine, session_scope
from storage.tables import Conference, User
from tests.ports import free_port
from tests.signaling.conftest import SyntheticVideo
from tests.web.live.test_instances import _serve
from web.app import create_app
from web.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SECRET = "failover-shared-secret"


async def _joined(url: str, token: str) -> RoomClient:
    client = RoomClient(url, token=token)
    await client.open()
    assert (await client.join())["type"] == "welcome"
    await client.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
    return client


async def _media_both_ways(a: RoomClient, b: RoomClient, timeout: float = 20) -> None:
    start_a, start_b = sum(a.received_from().values()), sum(b.received_from().values())
    await RoomClient.wait_for(lambda: sum(a.received_from().values()) > start_a + 5
                              and sum(b.received_from().values()) > start_b + 5, timeout)


@dataclass
class Pair:
    """The host (a process of its own) and the survivor (this process), with the
    room's address on each and the two people's tokens."""

    host: subprocess.Popen[bytes]
    survivor: Starlette
    url_a: str
    url_b: str
    okafor: str
    lee: str


@asynccontextmanager
async def hosted_elsewhere(database_url: str, redis_url: str) -> AsyncIterator[Pair]:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        load_demo(session)
        conf_id = session.exec(select(Conference)).one().id
        people = {u.email.split("@")[0]: u.id for u in session.exec(select(User))}
    engine.dispose()
    port_a = free_port()
    host = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(port_a)], cwd=ROOT,
        env={**os.environ, "CASEBRIDGE_DATABASE_URL": database_url,
             "CASEBRIDGE_REDIS_URL": redis_url, "CASEBRIDGE_SECRET_KEY": SECRET},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    survivor = create_app(Settings(database_url=database_url, secret_key=SECRET,
                                   redis_url=redis_url))
    server, task, port_b = await _serve(survivor)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port_a}/healthz").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the first instance did not start")
            await asyncio.sleep(0.2)
        signer = survivor.state.signer
        okafor, lee = (signer.issue_api(people[w])[0] for w in ("okafor", "lee"))
        yield Pair(host, survivor, f"ws://127.0.0.1:{port_a}/ws/conferences/{conf_id}",
                   f"ws://127.0.0.1:{port_b}/ws/conferences/{conf_id}", okafor, lee)
    finally:
        host.kill()
        host.wait(10)
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        survivor.state.engine.dispose()


async def _meeting(pair: Pair) -> tuple[RoomClient, RoomClient]:
    chair = await _joined(pair.url_a, pair.okafor)  # the first instance hosts the room
    member = await _joined(pair.url_b, pair.lee)  # relayed to it
    assert not pair.survivor.state.hub.rooms
    await _media_both_ways(chair, member)
    return chair, member


async def _back_on_the_survivor(pair: Pair, chair: RoomClient, member: RoomClient) -> None:
    await chair.close()
    await member.close()
    chair = await _joined(pair.url_b, pair.okafor)  # the browser reconnects by itself
    member = await _joined(pair.url_b, pair.lee)
    await _media_both_ways(chair, member)
    assert pair.survivor.state.hub.rooms, "the survivor hosts the room now"
    await chair.close()
    await member.close()


async def failover_once(database_url: str, redis_url: str,
                        baseline: list[float] | None = None) -> float:
    """Seconds from the SIGKILL to media flowing both ways again. ``baseline`` gets the
    seconds the same two joins took to media with a healthy host, in the same run."""
    async with hosted_elsewhere(database_url, redis_url) as pair:
        started = time.monotonic()
        chair, member = await _meeting(pair)
        if baseline is not None:
            baseline.append(time.monotonic() - started)
        pair.host.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        # The survivor's relay sees the host gone and tells its client to reconnect.
        await member.expect(lambda m: m["type"] == "reconnect", timeout=15)
        assert await member.wait_closed() == 1012
        await _back_on_the_survivor(pair, chair, member)
        return time.monotonic() - killed


async def drain_once(database_url: str, redis_url: str) -> tuple[float, float]:
    """SIGTERM to the host: (seconds until media flows again on the survivor,
    seconds until the host process has exited)."""
    async with hosted_elsewhere(database_url, redis_url) as pair:
        chair, member = await _meeting(pair)
        pair.host.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        for client in (chair, member):  # both told, directly or through the relay
            await client.expect(lambda m: m["type"] == "reconnect", timeout=10)
            assert await client.wait_closed() == 1012
        await _back_on_the_survivor(pair, chair, member)
        back = time.monotonic() - asked
        exit_code = await asyncio.to_thread(pair.host.wait, 30)
        # uvicorn raises the signal again once shut down, so the exit status says it.
        assert exit_code in (0, -signal.SIGTERM), f"the drained instance exited {exit_code}"
        return back, time.monotonic() - asked
