"""Signaling fan-out (issue 12, bench b): an ``advance`` from the chair delivered to 200
sockets spread over two instances (one hosts the room, the other relays its half over
Redis), p50/p99 from sending to each socket's ``agenda``.

Both instances are ``casebridge serve`` processes on one PostgreSQL database and a
private Redis; the 200 sockets are plain WebSocket clients in this process (signaling
only, no media). Aim: p99 at most 50 ms on loopback.

    python3 bench/fanout.py                 # --sockets 200 --advances 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2  # noqa: E402
from sqlmodel import col, select  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from conference.people import ConferenceRole, Role, Specialty  # noqa: E402
from storage import conferences, users  # noqa: E402
from storage.demo import load_demo  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tables import AgendaItem, Conference, User  # noqa: E402
from tests.databases import PostgresDatabases  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tests.servers import private_redis  # noqa: E402
from web.tokens import TokenSigner  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SECRET = "fanout-bench-secret"


def _people(url: str, count: int) -> tuple[int, int, list[int], list[int]]:
    """The demo, plus ``count - 1`` more members: (conference, chair, members, items)."""
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        load_demo(session)
        conf = session.exec(select(Conference)).one()
        coord = session.exec(select(User).where(User.role == Role.COORDINATOR)).first()
        assert conf.id is not None and coord is not None
        members = []
        for n in range(count - 1):
            person = users.create_user(session, email=f"fan{n}@bench.example",
                                       name=f"Member {n}", role=Role.SPECIALIST,
                                       specialty=Specialty.RADIOLOGY, password="bench-password-1")
            conferences.add_member(session, actor=coord, conference_id=conf.id,
                                   user_id=person.id or 0, conference_role=ConferenceRole.MEMBER)
            members.append(person.id or 0)
        items = [i.id or 0 for i in session.exec(select(AgendaItem).where(
            AgendaItem.conference_id == conf.id).order_by(col(AgendaItem.position)))]
        chair = conf.chair_id
    engine.dispose()
    return conf.id, chair, members, items


def _start(url: str, redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT,
        env={**os.environ, "CASEBRIDGE_DATABASE_URL": url, "CASEBRIDGE_REDIS_URL": redis_url,
             "CASEBRIDGE_SECRET_KEY": SECRET, "CASEBRIDGE_ROOM_CAPACITY": "200"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("an instance did not start")
        time.sleep(0.2)


async def _join(url: str) -> ClientConnection:
    socket = await connect(url, max_size=1 << 20)
    await socket.send(json.dumps({"type": "join"}))
    while json.loads(await socket.recv())["type"] != "welcome":
        pass
    return socket


async def _settle(socket: ClientConnection) -> None:
    """Read what the joins sent (each join tells everyone present) until the socket is
    quiet, so a measured ``advance`` does not queue behind this client's backlog."""
    with contextlib.suppress(TimeoutError):
        while True:
            await asyncio.wait_for(socket.recv(), 0.5)


async def _agenda_at(socket: ClientConnection, item: str) -> float:
    while True:
        message = json.loads(await socket.recv())
        if message["type"] == "agenda" and message.get("current_item_id") == item:
            return time.perf_counter()


async def run(url: str, redis_url: str, sockets: int,
              advances: int) -> tuple[list[float], list[float]]:
    conf_id, chair, members, items = _people(url, sockets)
    (a, port_a), (b, port_b) = _start(url, redis_url), _start(url, redis_url)
    signer = TokenSigner(SECRET)
    try:
        def room(port: int, user_id: int) -> str:
            token = signer.issue_api(user_id)[0]
            return f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}?token={token}"

        head = await _join(room(port_a, chair))  # the first instance hosts the room
        clients = []
        for n, member in enumerate(members):  # half of them relayed through the other
            clients.append(await _join(room(port_a if n % 2 else port_b, member)))
        await asyncio.gather(*(_settle(c) for c in [head, *clients]))
        direct: list[float] = []  # the baseline: sockets on the hosting instance
        relayed: list[float] = []
        for n in range(advances):
            item = str(items[n % len(items)])
            pending = [asyncio.create_task(_agenda_at(c, item)) for c in clients]
            sent = time.perf_counter()
            await head.send(json.dumps({"type": "advance", "item_id": item}))
            arrived = await asyncio.gather(*pending)
            for n, t in enumerate(arrived):
                (direct if n % 2 else relayed).append(t - sent)
            await asyncio.sleep(0.2)
        for socket in [head, *clients]:
            await socket.close()
        return direct, relayed
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--advances", type=int, default=20)
    args = parser.parse_args()
    pg = PostgresDatabases()
    try:
        with private_redis() as rds:
            direct, relayed = asyncio.run(run(pg.new(), rds.url, args.sockets,
                                              args.advances))
    finally:
        pg.close()
    for label, waits in (("all", direct + relayed), ("on the host (baseline)", direct),
                         ("relayed", relayed)):
        ms = sorted(w * 1000 for w in waits)
        print(f"advance to {args.sockets} sockets, {label:<22} ({len(ms)} deliveries): "
              f"p50 {statistics.median(ms):.1f} ms, "
              f"p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
