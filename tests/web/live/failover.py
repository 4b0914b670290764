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
from pathlib import Path

import httpx2
from aiortc.mediastreams import AudioStreamTrack
from sqlmodel import select

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


async def failover_once(database_url: str, redis_url: str) -> float:
    """Seconds from the SIGKILL to media flowing both ways again."""
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
        url_a = f"ws://127.0.0.1:{port_a}/ws/conferences/{conf_id}"
        url_b = f"ws://127.0.0.1:{port_b}/ws/conferences/{conf_id}"
        chair = await _joined(url_a, okafor)  # the first instance hosts the room
        member = await _joined(url_b, lee)  # relayed to it
        assert not survivor.state.hub.rooms
        await _media_both_ways(chair, member)

        host.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        # The survivor's relay sees the host gone and tells its client to reconnect.
        await member.expect(lambda m: m["type"] == "reconnect", timeout=15)
        assert await member.wait_closed() == 1012
        await chair.close()
        await member.close()
        chair = await _joined(url_b, okafor)  # the browser reconnects by itself
        member = await _joined(url_b, lee)
        await _media_both_ways(chair, member)
        took = time.monotonic() - killed
        assert survivor.state.hub.rooms, "the survivor hosts the room now"
        await chair.close()
        await member.close()
        return took
    finally:
        host.kill()
        host.wait(10)
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        survivor.state.engine.dispose()
