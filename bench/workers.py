"""``casebridge serve --workers 2`` against one worker (issue 12, bench c): two rooms of
five people each, every participant publishing 640x480 VP8 at 30 fps plus Opus, on
this 2-core machine, in the same run.

Each configuration is a real ``python -m web.cli serve`` on one PostgreSQL database and
a private Redis; the participants are ``signaling.client.RoomClient``\\ s in this process,
each signed in as its own member, alternating between the two rooms as they join (so
the sockets of both rooms reach every worker and are relayed to the room's host).
They publish bench/forwarding.py's clip (encoded once, looped) and count the *encoded*
frames they receive. Server CPU is read from ``/proc`` for every worker process over
the measurement window, after a warm-up.

    python3 bench/workers.py                 # --seconds 10 --people 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from forwarding import (  # noqa: E402
    FPS,
    ClipTrack,
    cpu_seconds,
    encode_audio_clip,
    encode_video_clip,
    enlarge_receive_buffers,
)
from room import Counter, free_port  # noqa: E402

from conference.people import ConferenceRole, Role, Specialty  # noqa: E402
from signaling import encoded  # noqa: E402
from signaling.client import RoomClient  # noqa: E402
from storage import conferences, users  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.databases import PostgresDatabases  # noqa: E402
from tests.servers import private_redis  # noqa: E402
from web.tokens import TokenSigner  # noqa: E402

SECRET = "workers-bench-secret-" + "x" * 32
ROOMS = 2


def prepare(database: str, people: int) -> list[tuple[int, list[int]]]:
    """``ROOMS`` conferences of ``people`` distinct members each: (id, member ids)."""
    engine = make_engine(database)
    upgrade(engine)
    rooms = []
    with session_scope(engine) as session:
        coordinator = users.create_user(session, email="coord@bench.example", name="Coordinator",
                                        role=Role.COORDINATOR, password="bench password")
        specialties = list(Specialty)
        for r in range(ROOMS):
            members = [users.create_user(
                session, email=f"r{r}p{i}@bench.example", name=f"Room {r} person {i}",
                role=Role.SPECIALIST, password="bench password",
                specialty=specialties[i % len(specialties)]) for i in range(people)]
            conf = conferences.create_conference(
                session, actor=coordinator, title=f"Bench room {r}",
                starts_at=datetime.now(UTC), duration_minutes=60, chair_id=members[0].id or 0)
            for person in members[1:]:
                conferences.add_member(session, actor=coordinator, conference_id=conf.id or 0,
                                       user_id=person.id or 0,
                                       conference_role=ConferenceRole.MEMBER)
            rooms.append((conf.id or 0, [p.id or 0 for p in members]))
    engine.dispose()
    return rooms


def children(pid: int) -> list[int]:
    """The worker processes the supervisor ``pid`` spawned."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


async def start_server(database: str, redis_url: str, port: int,
                       workers: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "CASEBRIDGE_DATABASE_URL": database, "CASEBRIDGE_SECRET_KEY": SECRET,
           "CASEBRIDGE_REDIS_URL": redis_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli", "serve", "--port", str(port),
        "--workers", str(workers), cwd=str(ROOT), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    for _ in range(600):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            if workers == 1 or len(children(proc.pid)) == workers:
                await asyncio.sleep(3 if workers > 1 else 0)  # every worker's lifespan
                return proc
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def run(workers: int, people: int, seconds: float, clips: Any,
              pg: PostgresDatabases, redis_url: str) -> dict[str, Any]:
    database = pg.empty()  # a database of its own for each configuration
    rooms = prepare(database, people)
    port = free_port()
    proc = await start_server(database, redis_url, port, workers)
    pids = children(proc.pid) if workers > 1 else [proc.pid]
    signer = TokenSigner(SECRET)
    clients: list[tuple[RoomClient, Counter]] = []
    try:
        for n in range(people):  # one from each room in turn
            for conf_id, members in rooms:
                counter = Counter()
                client = RoomClient(f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}",
                                    token=signer.issue_api(members[n])[0], consume=False,
                                    on_remote_offer=counter.tap)
                await client.open()
                await client.join()
                video = ClipTrack("video", clips[0], FPS, 90000)
                await client.publish([ClipTrack("audio", clips[1], 50, 48000), video])
                for t in client.pc.getTransceivers():
                    if t.sender.track is video:
                        encoded.on_keyframe_request(t.sender, video.restart)
                enlarge_receive_buffers(client.pc)
                clients.append((client, counter))
                await asyncio.sleep(0.2)
        expected = ROOMS * people * (people - 1)

        def videos() -> list[tuple[int, str]]:
            return [(i, mid) for i, (client, counter) in enumerate(clients)
                    for t in client.receiving()
                    if t.kind == "video" and (mid := t.mid) in counter.mids]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(1 for i, mid in videos() if mid in clients[i][1].first) >= expected:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # past the joins' keyframes

        def snapshot() -> tuple[float, list[float], list[dict[str, tuple[int, int]]]]:
            counts = [{mid: (k.frames.get(mid, 0), k.bytes.get(mid, 0)) for mid in k.mids}
                      for _, k in clients]
            return time.monotonic(), [cpu_seconds(p) for p in pids], counts

        t0, cpu0, c0 = snapshot()
        self0 = time.process_time()
        await asyncio.sleep(seconds)
        t1, cpu1, c1 = snapshot()
        span = t1 - t0
        fps = [(c1[i][mid][0] - c0[i].get(mid, (0, 0))[0]) / span for i, mid in videos()]
        bits = sum(8 * (c1[i][mid][1] - c0[i].get(mid, (0, 0))[1])
                   for i, (_, counter) in enumerate(clients) for mid in counter.mids)
        per_worker = [(b - a) / span for a, b in zip(cpu0, cpu1, strict=True)]
        loadgen = (time.process_time() - self0) / span
    finally:
        for client, _ in clients:
            await client.close()
        proc.terminate()
        await proc.wait()
    mbits = bits / span / 1e6
    cores = sum(per_worker)
    return {"workers": workers, "subs": len(fps), "expected": expected,
            "fps_min": min(fps, default=0.0),
            "fps_med": statistics.median(fps) if fps else 0.0, "mbits": mbits,
            "cores": cores, "per_worker": per_worker,
            "mbit_per_core": mbits / cores if cores else 0.0,
            "busiest": max(per_worker, default=0.0), "loadgen": loadgen}


def row(r: dict[str, Any]) -> str:
    workers = " + ".join(f"{c:.2f}" for c in r["per_worker"])
    return (f"| {r['workers']} | {r['subs']}/{r['expected']} | {r['fps_min']:.1f} "
            f"| {r['fps_med']:.1f} | {r['mbits']:.1f} | {r['cores']:.2f} ({workers}) "
            f"| {r['mbit_per_core']:.0f} | {r['busiest']:.2f} | {r['loadgen']:.2f} |")


async def main(args: argparse.Namespace) -> None:
    clips = (encode_video_clip(), encode_audio_clip())
    print(f"{ROOMS} rooms of {args.people}, {args.seconds:.0f} s each; os.cpu_count() = "
          f"{os.cpu_count()}")
    print("| workers | video subscriptions | fps min | fps median | forwarded Mbit/s "
          "| server cores (per worker) | Mbit/s per core | busiest process, cores "
          "| load-gen cores |")
    print("|" + "---|" * 9, flush=True)
    pg = PostgresDatabases()
    try:
        with private_redis() as rds:
            for workers in args.workers:  # the baseline (1) first, same run
                print(row(await run(workers, args.people, args.seconds, clips, pg, rds.url)),
                      flush=True)
    finally:
        pg.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=lambda t: [int(n) for n in t.split(",")],
                        default=[1, 2])
    parser.add_argument("--people", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
