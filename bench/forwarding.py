"""Benchmark the media router (SFU), forwarding packets and forwarding frames, against a
MediaRelay transcoding baseline.

Run by hand, not a test:

    python bench/forwarding.py --sizes 4,8,10 --modes packets,frames --baseline-sizes ""

For each mode and room size P the server runs in its own process (so its CPU time can be
read from /proc/<pid>/stat) and this process plays P participants. Each
publishes 640x480 VP8 at 30 fps (~1 Mbit/s) plus Opus, from a clip encoded ONCE
with PyAV and looped with rewritten timestamps; received media is counted as
encoded frames (signaling.encoded taps the receivers), so the load generator
never encodes nor decodes per frame and does not measure itself. It counts packets as
they arrive (``signaling.encoded.tap_packets``), without reassembling frames.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiortc import (  # noqa: E402
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402
from aiortc.rtp import RtpPacket  # noqa: E402

from signaling import encoded  # noqa: E402
from signaling.forwarding import FORWARDING, MediaRouter, _Source  # noqa: E402
from signaling.sdp import restrict_codecs, stream_ids  # noqa: E402
from tests.clips import (  # noqa: E402  (re-exported: bench/room.py, bench/workers.py)
    CLIP_SECONDS,
    FPS,
    ClipTrack,
    encode_audio_clip,
    encode_video_clip,
)

CODECS = {"audio": "opus", "video": "VP8"}
RECEIVE = "receive"  # a mode: the router receives every publisher and forwards nothing
# The same, with each datagram taking aiortc's own way (queued for the DTLS transport's
# task, then its handlers) instead of encoded.receive_directly's.
RECEIVE_AIORTC = "receive-aiortc"
RECEIVING = (RECEIVE, RECEIVE_AIORTC)  # the modes that receive alone


# -- the baseline server: decode once, encode per subscriber (MediaRelay) -------------


class RelayRouter:
    """What MediaRelay gives: every subscription is a separate VP8/Opus encoder."""

    def __init__(self, on_offer: Any) -> None:
        self._on_offer, self._relay = on_offer, MediaRelay()
        self._pcs: dict[str, RTCPeerConnection] = {}
        self._tracks: dict[str, list[MediaStreamTrack]] = {}
        self._sent: dict[str, set[MediaStreamTrack]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def add(self, pid: str) -> None:
        self._pcs[pid] = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._tracks[pid], self._sent[pid], self._locks[pid] = [], set(), asyncio.Lock()

    async def accept_offer(self, pid: str, sdp: str) -> str:
        pc = self._pcs[pid]
        async with self._locks[pid]:
            offer = restrict_codecs(sdp, CODECS)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            self._tracks[pid] = [t.receiver.track for t in pc.getTransceivers()]
            await pc.setLocalDescription(await pc.createAnswer())
        for other in self._pcs:
            self._touch(other)
        return str(pc.localDescription.sdp)

    async def accept_answer(self, pid: str, sdp: str) -> None:
        async with self._locks[pid]:
            await self._pcs[pid].setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        if pid in self._dirty:
            self._touch(pid)

    def _touch(self, pid: str) -> None:
        self._dirty.add(pid)
        task = asyncio.ensure_future(self._offer(pid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _offer(self, pid: str) -> None:
        pc, streams = self._pcs[pid], {}
        async with self._locks[pid]:
            if pc.signalingState != "stable" or pid not in self._dirty:
                return
            self._dirty.discard(pid)
            new = False
            for other, tracks in self._tracks.items():
                for track in tracks if other != pid else []:
                    if track not in self._sent[pid]:
                        self._sent[pid].add(track)
                        sub = self._relay.subscribe(track, buffered=False)
                        sender = pc.addTransceiver(sub, direction="sendonly").sender
                        encoded.set_stream_id(sender, other)
                        new = True
                    streams[other] = other
            if not new:
                return
            await pc.setLocalDescription(await pc.createOffer())
        await self._on_offer(pid, pc.localDescription.sdp, streams)

    async def close(self) -> None:
        for pc in self._pcs.values():
            await pc.close()


# -- the server process -------------------------------------------------------------


async def serve(mode: str) -> None:
    """Speak JSON lines on one TCP connection: offers/answers for every participant."""
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(message: dict[str, Any]) -> None:
            writer.write(json.dumps(message).encode() + b"\n")

        async def on_offer(pid: str, sdp: str, streams: dict[str, str]) -> None:
            send({"op": "offer", "pid": pid, "sdp": sdp, "streams": streams})

        if mode in RECEIVING:
            # What receiving alone costs (ICE, SRTP, parsing, statistics, NACK and REMB,
            # up to the packet tap): every publisher is received and every subscription
            # negotiated, but no packet is sent on.
            _Source.forward_packet = lambda self, packet: None  # type: ignore[method-assign]
        if mode == RECEIVE_AIORTC:
            encoded.receive_directly = lambda pc: None
        router: Any = (
            RelayRouter(on_offer)
            if mode == "relay"
            # Adaptation off: a busy load generator's own losses would pause video and
            # lower what is forwarded (bench/thin_link.py measures adaptation).
            else MediaRouter(ice_servers=[], on_offer=on_offer, adapt=False,
                             forwarding="packets" if mode in RECEIVING else mode)
        )
        while line := await reader.readline():
            msg = json.loads(line)
            if msg["op"] == "offer":
                await router.add(msg["pid"])
                answer = await router.accept_offer(msg["pid"], msg["sdp"])
                send({"op": "answer", "pid": msg["pid"], "sdp": answer})
            elif msg["op"] == "answer":
                await router.accept_answer(msg["pid"], msg["sdp"])
            elif msg["op"] == "close":
                break
        if isinstance(router, MediaRouter):
            print(f"server ({mode}): {router.keyframe_requests} keyframe requests to "
                  "publishers", file=sys.stderr, flush=True)
        await router.close()
        writer.close()
        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await done.wait()
    server.close()


# -- the load generator -------------------------------------------------------------


class Participant:
    """One publishing and subscribing peer that counts encoded frames it receives."""

    def __init__(self, pid: str, video: list[bytes], audio: list[bytes]) -> None:
        self.pid = pid
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = ClipTrack("video", video, FPS, 90000)
        self.audio = ClipTrack("audio", audio, 50, 48000)
        self.streams: dict[str, str] = {}
        self.mids: dict[str, str] = {}  # mid -> kind of tapped receivers
        self.frames: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.first: dict[str, float] = {}
        self.offered_at = 0.0
        self.chain = asyncio.Lock()

        @self.pc.on("connectionstatechange")
        def connected() -> None:
            # Received as the packet router receives (each datagram in the socket's
            # callback): the load generator stays under one core at P = 10 on a slow day.
            if self.pc.connectionState == "connected":
                encoded.receive_directly(self.pc)

    def publish(self) -> None:
        self.pc.addTransceiver(self.audio, direction="sendonly")
        sender = self.pc.addTransceiver(self.video, direction="sendonly").sender
        encoded.on_keyframe_request(sender, self.video.restart)

    def tap(self, offer: str) -> None:
        for t in self.pc.getTransceivers():
            if t.mid is not None and t.mid not in self.mids and t.receiver.track is not None:
                self.mids[t.mid] = t.kind
                encoded.tap_receiver(t.receiver, lambda frame: None, lambda: None)
                encoded.tap_packets(t.receiver, self._counter(t.mid, t.kind))

    def _counter(self, mid: str, kind: str) -> Any:
        """Count packets as they arrive: a frame ends at a video packet with the marker
        bit (RFC 7741 section 4.1) and is each audio packet. No jitter buffer: the
        load generator stays cheap enough to play ten participants on one core."""
        def count(packet: RtpPacket) -> None:
            self.bytes[mid] = self.bytes.get(mid, 0) + len(packet.payload)
            if kind == "audio" or packet.marker:
                self.first.setdefault(mid, time.monotonic())
                self.frames[mid] = self.frames.get(mid, 0) + 1

        return count

    def subscriptions(self) -> dict[str, tuple[str, str]]:
        """mid -> (publisher, kind) of every receiving m-line."""
        msids = stream_ids(self.pc.remoteDescription.sdp)
        return {
            mid: (self.streams[msids[mid]], kind)
            for mid, kind in self.mids.items()
            if msids.get(mid) in self.streams
        }


def enlarge_receive_buffers(pc: RTCPeerConnection) -> None:
    """Give the load generator's UDP sockets 2 MB receive buffers.

    A joiner is sent P-1 keyframes at once; with the default 208 kB buffer a
    short stall of this (busy) process drops packets, and aiortc's receiver
    then stalls until its jitter buffer overflows, which would be measured as
    the server's fault. Reaches into aioice (bench only).
    """
    for transceiver in pc.getTransceivers()[:1]:
        connection = transceiver.receiver.transport.transport._connection
        for protocol in connection._protocols:
            sock = protocol.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 << 20)


def cpu_split(pid: int) -> tuple[float, float]:
    """The process's (user, system) CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    return sum(cpu_split(pid))


async def run_room(mode: str, size: int, seconds: float, clips: Any) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", mode, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    port = int(await proc.stdout.readline())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    people = {f"p{i}": Participant(f"p{i}", *clips) for i in range(size)}
    answers: dict[str, asyncio.Future[str]] = {}

    def send(message: dict[str, Any]) -> None:
        writer.write(json.dumps(message).encode() + b"\n")

    async def on_offer(p: Participant, msg: dict[str, Any]) -> None:
        async with p.chain:
            p.streams.update(msg["streams"])
            await p.pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
            p.tap(msg["sdp"])
            await p.pc.setLocalDescription(await p.pc.createAnswer())
            send({"op": "answer", "pid": p.pid, "sdp": p.pc.localDescription.sdp})

    async def pump() -> None:
        tasks = set()
        while line := await reader.readline():
            msg = json.loads(line)
            if msg["op"] == "answer":
                answers.pop(msg["pid"]).set_result(msg["sdp"])
            else:
                task = asyncio.ensure_future(on_offer(people[msg["pid"]], msg))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    pumping = asyncio.ensure_future(pump())
    for p in people.values():
        async with p.chain:
            p.publish()
            await p.pc.setLocalDescription(await p.pc.createOffer())
            enlarge_receive_buffers(p.pc)
            p.offered_at = time.monotonic()
            answers[p.pid] = asyncio.get_running_loop().create_future()
            send({"op": "offer", "pid": p.pid, "sdp": p.pc.localDescription.sdp})
            answer = await answers[p.pid]
            await p.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.sleep(0.2)

    expected = size * (size - 1)
    # receiving alone: no video comes
    deadline = time.monotonic() + (5 if mode in RECEIVING else 15)
    while time.monotonic() < deadline:
        video = [(p, mid) for p in people.values() for mid, s in p.subscriptions().items()]
        if sum(1 for p, mid in video if mid in p.first) >= 2 * expected:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # let the joins settle

    def snapshot() -> tuple[float, tuple[float, float], dict[tuple[str, str], tuple[int, int]]]:
        counts = {
            (p.pid, mid): (p.frames.get(mid, 0), p.bytes.get(mid, 0))
            for p in people.values()
            for mid in p.mids
        }
        return time.monotonic(), cpu_split(proc.pid), counts

    t0, cpu0, c0 = snapshot()
    self_cpu0 = time.process_time()
    await asyncio.sleep(seconds)
    t1, cpu1, c1 = snapshot()
    self_cpu = (time.process_time() - self_cpu0) / (t1 - t0)

    fps, bits, joins = [], 0, []
    for p in people.values():
        for mid, (publisher, kind) in p.subscriptions().items():
            frames = c1[(p.pid, mid)][0] - c0.get((p.pid, mid), (0, 0))[0]
            bits += 8 * (c1[(p.pid, mid)][1] - c0.get((p.pid, mid), (0, 0))[1])
            if kind == "video":
                fps.append(frames / (t1 - t0))
                start = max(p.offered_at, people[publisher].offered_at)
                joins.append(p.first.get(mid, math.inf) - start)
    send({"op": "close"})
    await proc.wait()
    pumping.cancel()
    writer.close()
    for p in people.values():
        await p.pc.close()
    user, system = ((after - before) / (t1 - t0) for before, after in zip(cpu0, cpu1, strict=True))
    cores = user + system
    mbits = bits / (t1 - t0) / 1e6
    return {
        "mode": mode,
        "P": size,
        "subs": len(fps),
        "missing": expected - len(fps),
        "fps_min": min(fps, default=0.0),
        "fps_med": statistics.median(fps) if fps else 0.0,
        "mbits": mbits,
        "cores": cores,
        "user": user,
        "system": system,
        "per_stream": cores / max(len(fps), 1),
        "per_mbit": cores / mbits if mbits else math.inf,
        "join_med": statistics.median(joins) if joins else math.inf,
        "join_max": max(joins, default=math.inf),
        "loadgen_cores": self_cpu,
    }


def row(r: dict[str, Any]) -> str:
    return (
        f"| {r['mode']} | {r['P']} | {r['subs']} | {r['fps_min']:.1f} | {r['fps_med']:.1f} "
        f"| {r['mbits']:.1f} | {r['cores']:.3f} | {r['user']:.3f} | {r['system']:.3f} "
        f"| {r['per_stream']:.4f} | {r['per_mbit']:.4f} "
        f"| {r['join_med']:.2f} | {r['join_max']:.2f} | {r['loadgen_cores']:.2f} |"
    )


async def main(args: argparse.Namespace) -> None:
    started = time.monotonic()
    clips = (encode_video_clip(), encode_audio_clip())
    kbps = sum(map(len, clips[0])) * 8 / CLIP_SECONDS / 1000
    print(f"clip: {len(clips[0])} VP8 frames, {kbps:.0f} kbit/s, encoded once", flush=True)
    print(
        "| server | P | subscriptions | fps min | fps median | forwarded Mbit/s | server cores "
        "| of them user | of them system | cores/stream | cores/Mbit/s | join median s "
        "| join max s | load-gen cores |"
    )
    print("|" + "---|" * 14, flush=True)
    # Modes alternate per size, so a drift in the machine's load touches both alike.
    runs = [(mode, n) for _ in range(args.rounds) for n in args.sizes for mode in args.modes]
    runs += [("relay", n) for n in args.baseline_sizes]
    results = []
    for mode, size in runs:
        results.append(await run_room(mode, size, args.seconds, clips))
        print(row(results[-1]), flush=True)
    for line in pooled(results):
        print(line)
    print(f"total {time.monotonic() - started:.0f} s", flush=True)


def pooled(results: list[dict[str, Any]]) -> list[str]:
    """Per room size: how much cheaper packets were than frames per forwarded Mbit/s,
    each round alone and pooled (all rounds' cores over all rounds' Mbit/s). A round
    where either mode's subscribers fell below 29 fps is left out of the pool and
    marked: the machine, not the server, was the limit then."""
    lines = []
    for size in dict.fromkeys(r["P"] for r in results):
        rounds = list(zip([r for r in results if r["P"] == size and r["mode"] == "packets"],
                          [r for r in results if r["P"] == size and r["mode"] == "frames"],
                          strict=False))
        kept = [(p, f) for p, f in rounds if min(p["fps_med"], f["fps_med"]) >= 29]
        if not rounds:
            continue
        each = " ".join(f"{f['per_mbit'] / p['per_mbit']:.2f}"
                        + ("" if (p, f) in kept else " (below 29 fps, left out)")
                        for p, f in rounds)
        total = "none kept" if not kept else "{:.2f}x".format(
            sum(f["cores"] for _, f in kept) / sum(f["mbits"] for _, f in kept)
            / (sum(p["cores"] for p, _ in kept) / sum(p["mbits"] for p, _ in kept)))
        lines.append(f"P = {size}: packets cheaper than frames per Mbit/s by {each}; "
                     f"pooled {total}")
    return lines


def sizes(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, default=sizes("2,4,6,8,10,12"))
    parser.add_argument("--baseline-sizes", type=sizes, default=sizes("2,4"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every size and mode this many times, alternating")
    parser.add_argument("--modes", type=lambda text: text.split(","), default=list(FORWARDING),
                        help="the router's forwarding modes to measure (packets,frames), "
                             f"and {RECEIVE!r}: the cost of receiving alone "
                             f"({RECEIVE_AIORTC!r}: aiortc's own way)")
    parser.add_argument("--serve", choices=[*FORWARDING, RECEIVE, RECEIVE_AIORTC, "relay"],
                        help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        profile = os.environ.get("BENCH_PROFILE")  # a file: the server's cProfile stats
        if profile:
            import cProfile

            cProfile.run(f"asyncio.run(serve({arguments.serve!r}))", profile)
        else:
            asyncio.run(serve(arguments.serve))
    else:
        asyncio.run(main(arguments))
