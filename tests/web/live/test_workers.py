"""`casebridge serve --workers 2`: two processes on one port, one room between them
(whichever worker a socket lands on, it reaches the room's host over Redis), media
flowing; SIGTERM stops both, each draining its rooms."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from sqlmodel import select

from storage.demo import load_demo
from storage.engine import make_engine, session_scope
from storage.tables import Conference, User
from tests.ports import free_port
from tests.servers import private_redis
from tests.web.live.failover import _joined, _media_both_ways
from web.tokens import TokenSigner

ROOT = Path(__file__).resolve().parents[3]
SECRET = "workers-shared-secret"


def test_workers_refuse_without_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--workers", "2"], cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "CASEBRIDGE_REDIS_URL"},
             "CASEBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cb.db'}"},
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "needs CASEBRIDGE_REDIS_URL" in done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_serve_one_room(database_url: str) -> None:
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        load_demo(session)
        conf_id = session.exec(select(Conference)).one().id
        people = {u.email.split("@")[0]: u.id or 0 for u in session.exec(select(User))}
    engine.dispose()
    with private_redis() as rds:
        port = free_port()
        parent = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--workers", "2", "--port", str(port)],
            cwd=ROOT, env={**os.environ, "CASEBRIDGE_DATABASE_URL": database_url,
                           "CASEBRIDGE_REDIS_URL": rds.url, "CASEBRIDGE_SECRET_KEY": SECRET},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while _workers(parent.pid) < 2 or not _answers(port):
                assert time.monotonic() < deadline, "the workers did not start"
                await asyncio.sleep(0.2)
            signer = TokenSigner(SECRET)
            url = f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}"
            clients = [await _joined(url, signer.issue_api(people[who])[0])
                       for who in ("okafor", "lee", "raman")]
            await _media_both_ways(clients[0], clients[1])
            await _media_both_ways(clients[1], clients[2])
            parent.send_signal(signal.SIGTERM)
            for client in clients:  # each worker drains: told to reconnect
                await client.expect(lambda m: m["type"] == "reconnect", timeout=15)
                await client.close()
            assert await asyncio.to_thread(parent.wait, 40) == 0
        finally:
            parent.kill()
            parent.wait(10)


def _workers(pid: int) -> int:
    found = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"],
                           capture_output=True, text=True)
    return len(found.stdout.split())


def _answers(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False
