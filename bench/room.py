"""Benchmark the whole live room: `casebridge serve`, its WebSocket signaling, the hub
and the media router, driven by P `signaling.client.RoomClient` participants.

Run by hand, not a test:

    python bench/room.py --sizes 2,4,6,8,10 --baseline-sizes 2,4,6,8,10 --seconds 10

It prints the app's rows ("app") beside the media router measured alone in the
same run ("packets", bench/forwarding.py's server): the difference is what
signaling, the room and the database cost. The server runs exactly as a
hospital would run it, each participant signed in as its own member of one
conference. Participants publish the clip of bench/forwarding.py (640x480 VP8 at
30 fps, ~1 Mbit/s, plus Opus; encoded once, looped) and count the *encoded*
frames they receive, so the load generator never encodes or decodes per frame.
"join" is, per subscription, the time from the later of the two participants'
sockets opening to the first frame received.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from aiortc import RTCPeerConnection  # noqa: E402
from forwarding import (  # noqa: E402
    FPS,
    ClipTrack,
    cpu_seconds,
    encode_audio_clip,
    encode_video_clip,
    enlarge_receive_buffers,
    row,
)
from forwarding import run_room as run_router_alone  # noqa: E402

from conference.people import ConferenceRole, Role, Specialty  # noqa: E402
from signaling import encoded  # noqa: E402
from signaling.client import RoomClient  # noqa: E402
from storage import conferences, users  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from web.tokens import TokenSigner  # noqa: E402

SECRET = "bench-secret-" + "x" * 32
SPECIALTIES = list(Specialty)


def prepare(database: str, size: int) -> tuple[int, list[int]]:
    """A conference whose chair and members are ``size`` distinct people."""
    engine = make_engine(database)
    upgrade(engine)
    with session_scope(engine) as session:
        coordinator = users.create_user(session, email="coord@bench.example", name="Coordinator",
                                        role=Role.COORDINATOR, password="bench password")
        people = [users.create_user(session, email=f"p{i}@bench.example", name=f"Person {i}",
                                    role=Role.SPECIALIST, password="bench password",
                                    specialty=SPECIALTIES[i % len(SPECIALTIES)])
                  for i in range(size)]
        from datetime import UTC, datetime

        conf = conferences.create_conference(
            session, actor=coordinator, title="Bench", starts_at=datetime.now(UTC),
            duration_minutes=60, chair_id=people[0].id or 0)
        for person in people[1:]:
            conferences.add_member(session, actor=coordinator, conference_id=conf.id or 0,
                                   user_id=person.id or 0, conference_role=ConferenceRole.MEMBER)
        ids = [p.id or 0 for p in people]
        conf_id = conf.id or 0
    engine.dispose()
    return conf_id, ids


class Counter:
    """Counts encoded frames per received m-line (taps receivers as offers arrive)."""

    def __init__(self) -> None:
        self.mids: dict[str, str] = {}
        self.frames: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.first: dict[str, float] = {}

    def tap(self, pc: RTCPeerConnection) -> None:
        for t in pc.getTransceivers():
            if t.mid is not None and t.mid not in self.mids and t.direction != "sendonly":
                self.mids[t.mid] = t.kind
                encoded.tap_receiver(t.receiver, self._count(t.mid), lambda: None)

    def _count(self, mid: str) -> Any:
        def count(frame: encoded.EncodedFrame) -> None:
            self.first.setdefault(mid, time.monotonic())
            self.frames[mid] = self.frames.get(mid, 0) + 1
            self.bytes[mid] = self.bytes.get(mid, 0) + len(frame.data)
        return count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_server(database: str, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "CASEBRIDGE_DATABASE_URL": database, "CASEBRIDGE_SECRET_KEY": SECRET}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli", "serve", "--port", str(port), cwd=str(ROOT), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return proc
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the server did not start")


async def run_room(size: int, seconds: float, clips: Any) -> dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="casebridge-bench-")
    database = f"sqlite:///{folder}/bench.db"
    conf_id, people = prepare(database, size)
    port = free_port()
    proc = await start_server(database, port)
    signer = TokenSigner(SECRET)
    url = f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}"
    clients: list[tuple[RoomClient, Counter, float]] = []
    for person in people:
        counter = Counter()
        client = RoomClient(url, token=signer.issue_api(person)[0], consume=False,
                            on_remote_offer=counter.tap)
        opened = time.monotonic()
        await client.open()
        await client.join()
        video = ClipTrack("video", clips[0], FPS, 90000)
        await client.publish([ClipTrack("audio", clips[1], 50, 48000), video])
        for t in client.pc.getTransceivers():
            if t.sender.track is video:
                encoded.on_keyframe_request(t.sender, video.restart)
        enlarge_receive_buffers(client.pc)
        clients.append((client, counter, opened))
        await asyncio.sleep(0.2)

    expected = size * (size - 1)

    def subscriptions(client: RoomClient, counter: Counter) -> dict[str, tuple[str, str]]:
        out = {}
        for t in client.receiving():
            publisher = client.publisher_of(t)
            if publisher and t.mid in counter.mids:
                out[t.mid] = (publisher, t.kind)
        return out

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        started = sum(1 for c, k, _ in clients for mid, (_, kind) in subscriptions(c, k).items()
                      if kind == "video" and mid in k.first)
        if started >= expected:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)

    def snapshot() -> tuple[float, float, list[dict[str, tuple[int, int]]]]:
        counts = [{mid: (k.frames.get(mid, 0), k.bytes.get(mid, 0)) for mid in k.mids}
                  for _, k, _ in clients]
        return time.monotonic(), cpu_seconds(proc.pid), counts

    t0, cpu0, c0 = snapshot()
    self0 = time.process_time()
    await asyncio.sleep(seconds)
    t1, cpu1, c1 = snapshot()
    self_cpu = (time.process_time() - self0) / (t1 - t0)
    fps, joins, bits = [], [], 0
    opened_by = {c.participant_id: opened for c, _, opened in clients}
    for i, (client, counter, opened) in enumerate(clients):
        for mid, (publisher, kind) in subscriptions(client, counter).items():
            frames = c1[i][mid][0] - c0[i].get(mid, (0, 0))[0]
            bits += 8 * (c1[i][mid][1] - c0[i].get(mid, (0, 0))[1])
            if kind == "video":
                fps.append(frames / (t1 - t0))
                # From the later of the two sockets opening to the first frame.
                start = max(opened, opened_by.get(publisher, opened))
                joins.append(counter.first.get(mid, math.inf) - start)
    for client, _, _ in clients:
        await client.close()
    proc.terminate()
    await proc.wait()
    cores = (cpu1 - cpu0) / (t1 - t0)
    mbits = bits / (t1 - t0) / 1e6
    return {
        "mode": "app", "P": size, "subs": len(fps), "fps_min": min(fps, default=0.0),
        "fps_med": statistics.median(fps) if fps else 0.0, "mbits": mbits, "cores": cores,
        "per_stream": cores / max(len(fps), 1), "per_mbit": cores / mbits if mbits else math.inf,
        "join_med": statistics.median(joins) if joins else math.inf,
        "join_max": max(joins, default=math.inf), "loadgen_cores": self_cpu,
    }


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    clips = (encode_video_clip(), encode_audio_clip())
    print("| server | P | subscriptions | fps min | fps median | forwarded Mbit/s | server cores "
          "| cores/stream | cores/Mbit/s | join median s | join max s | load-gen cores |")
    print("|" + "---|" * 12, flush=True)
    for size in args.sizes:
        print(row(await run_room(size, args.seconds, clips)), flush=True)
    # The baseline, in the same run: the media router alone, without the app
    # around it (no WebSocket, hub, room or database); rows "packets".
    for size in args.baseline_sizes:
        print(row(await run_router_alone("packets", size, args.seconds, clips)), flush=True)
    print(f"total {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda t: [int(n) for n in t.split(",") if n],
                        default=[2, 4, 6, 8, 10])
    parser.add_argument("--baseline-sizes", type=lambda t: [int(n) for n in t.split(",") if n],
                        default=[2, 4, 6, 8, 10], help="router-alone sizes to compare with")
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
