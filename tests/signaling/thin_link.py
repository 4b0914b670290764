"""A rural clinician on a thin line, for real: a network namespace whose only way in is
a veth pair with a token bucket (``tc`` ``tbf``) on the server's side, and an aiortc
subscriber process inside it, decoding what reaches it.

``run_call`` holds one call: two colleagues on loopback publish 640x480 VP8 at about
0.9 Mbit/s plus Opus (pre-encoded clips, ``tests.clips``), a third on loopback counts
what it receives, and the thin subscriber joins from the namespace. The media router
runs in this process; the subscriber talks to it over a JSON-lines TCP socket on the
veth pair. Used by ``test_thin_link.py`` and ``bench/thin_link.py``.

Run as a module (``python -m tests.signaling.thin_link HOST PORT SECONDS``) it is the
subscriber: it joins, decodes for SECONDS and prints, as one JSON line, the wall-clock
time of every frame it decoded, per publisher and kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtp import RtpPacket

from signaling import encoded
from signaling.forwarding import MediaRouter
from signaling.sdp import media_ssrcs, stream_ids
from tests.clips import FPS, ClipTrack, encode_audio_clip, encode_video_clip
from tests.layered_clip import LayeredClip, LayeredPublisher

ROOT = Path(__file__).resolve().parents[2]


# -- the namespace -------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    namespace: str
    host_ip: str  # the server's end of the veth pair
    subscriber_ip: str


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


def namespaces_unavailable() -> str | None:
    """Why a thin link cannot be made here, or None if it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None or shutil.which("tc") is None:
        return "the ip and tc commands (iproute2) are missing"
    probe = f"cbprobe{os.getpid() % 100000}"
    try:
        _run("ip", "netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"cannot create a network namespace: {exc.stderr.strip()}"
    _run("ip", "netns", "del", probe)
    return None


@contextlib.contextmanager
def thin_link(rate_kbit: int = 400) -> Iterator[Link]:
    """A namespace reached over a veth pair whose server-to-subscriber direction is a
    ``rate_kbit`` token bucket (200 ms of queue, like a DSL line). Removed afterwards."""
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    namespace, host_if, ns_if = f"cbthin{tag}", f"cbh{tag}", f"cbn{tag}"
    octet = random.randrange(1, 250)
    host_ip, subscriber_ip = f"10.203.{octet}.1", f"10.203.{octet}.2"
    try:
        _run("ip", "netns", "add", namespace)
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _run("ip", "link", "set", ns_if, "netns", namespace)
        _run("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        inside = ("ip", "netns", "exec", namespace)
        _run(*inside, "ip", "addr", "add", f"{subscriber_ip}/30", "dev", ns_if)
        _run(*inside, "ip", "link", "set", ns_if, "up")
        _run(*inside, "ip", "link", "set", "lo", "up")
        _run("tc", "qdisc", "add", "dev", host_if, "root", "tbf", "rate", f"{rate_kbit}kbit",
             "burst", "8kb", "latency", "200ms")
        yield Link(namespace, host_ip, subscriber_ip)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)


# -- the call --------------------------------------------------------------------------


class Colleague:
    """A participant on loopback: publishes the clips, counts frames as packets arrive."""

    def __init__(self, pid: str, router: MediaRouter, clips: tuple[list[bytes], list[bytes]],
                 layered: LayeredClip | None = None):
        self.pid, self.router = pid, router
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = ClipTrack("video", clips[0], FPS, 90000)
        self.audio = ClipTrack("audio", clips[1], 50, 48000)
        self.layered = layered  # Chromium's camera in temporal layers, instead of the clip
        self.publisher: LayeredPublisher | None = None
        self.streams: dict[str, str] = {}
        self.frames: dict[str, list[float]] = {}  # mid -> times a frame ended
        self._chain = asyncio.Lock()

    async def join(self) -> None:
        await self.router.add(self.pid)
        self.pc.addTransceiver(self.audio, direction="sendonly")
        if self.layered is not None:
            self.publisher = LayeredPublisher(self.pc, self.layered)
        else:
            sender = self.pc.addTransceiver(self.video, direction="sendonly").sender
            encoded.on_keyframe_request(sender, self.video.restart)
        async with self._chain:
            await self.pc.setLocalDescription(await self.pc.createOffer())
            answer = await self.router.accept_offer(self.pid, self.pc.localDescription.sdp)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        if self.publisher is not None:
            self.publisher.start()

    async def close(self) -> None:
        if self.publisher is not None:
            await self.publisher.stop()
        await self.pc.close()

    async def on_offer(self, sdp: str, streams: dict[str, str]) -> None:
        async with self._chain:
            self.streams.update(streams)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            for t in self.pc.getTransceivers():
                if t.mid is not None and t.mid not in self.frames and t.sender.track is None:
                    self.frames[t.mid] = []
                    encoded.tap_receiver(t.receiver, lambda frame: None, lambda: None)
                    encoded.tap_packets(t.receiver, self._counter(t.mid, t.kind))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.router.accept_answer(self.pid, self.pc.localDescription.sdp)

    def _counter(self, mid: str, kind: str) -> Any:
        def count(packet: RtpPacket) -> None:
            if kind == "audio" or packet.marker:
                self.frames[mid].append(time.time())
        return count

    def received(self) -> dict[tuple[str, str], list[float]]:
        """(publisher, kind) -> frame times."""
        mids = stream_ids(self.pc.remoteDescription.sdp)
        out: dict[tuple[str, str], list[float]] = {}
        for t in self.pc.getTransceivers():
            publisher = self.streams.get(mids.get(t.mid or "", ""))
            if publisher is not None and t.mid in self.frames:
                out.setdefault((publisher, t.kind), []).extend(self.frames[t.mid])
        return out


@dataclass
class Report:
    """One call, measured over its window (after the warm-up)."""

    seconds: float
    thin: dict[tuple[str, str], float]  # (publisher, kind) -> frames per second
    thin_freezes: dict[str, int]  # publisher -> video gaps over 0.5 s while not paused
    thin_paused: dict[str, float]  # publisher -> seconds their video was paused on purpose
    colleague: dict[tuple[str, str], float]  # what cho received, frames per second
    thin_warmup_audio: dict[str, float]  # audio frames per second in the warm-up (joining)
    told: list[tuple[float, dict[str, str]]] = field(default_factory=list)


async def run_call(link: Link, *, adapt: bool, seconds: float = 20.0,
                   warmup: float = 5.0, forwarding: str = "packets",
                   layered: LayeredClip | None = None) -> Report:
    """Two publishers and an onlooker on loopback, the thin subscriber in ``link``; with
    ``layered``, the publishers send that recording of Chromium's camera in temporal
    layers instead of aiortc's one-layer clip."""
    clips = (encode_video_clip(2), encode_audio_clip())
    told: list[tuple[float, dict[str, str]]] = []
    people: dict[str, Colleague] = {}
    writer: asyncio.StreamWriter | None = None

    async def on_offer(pid: str, sdp: str, streams: dict[str, str]) -> None:
        if pid == "thin":
            assert writer is not None
            streams_of.update(streams)
            writer.write(json.dumps({"op": "offer", "sdp": sdp, "streams": streams}).encode()
                         + b"\n")
        else:
            await people[pid].on_offer(sdp, streams)

    streams_of: dict[str, str] = {}  # the thin subscriber's stream ids -> publisher
    router = MediaRouter(ice_servers=[], on_offer=on_offer, forwarding=forwarding, adapt=adapt,
                         on_paused=lambda pid, streams: told.append((time.time(), streams))
                         if pid == "thin" else None)

    served = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, stream_writer: asyncio.StreamWriter) -> None:
        nonlocal writer
        writer = stream_writer
        try:
            while line := await reader.readline():
                message = json.loads(line)
                if message["op"] == "join":
                    await router.add("thin")
                    answer = await router.accept_offer("thin", message["sdp"])
                    writer.write(json.dumps({"op": "answer", "sdp": answer}).encode() + b"\n")
                elif message["op"] == "answer":
                    await router.accept_answer("thin", message["sdp"])
        finally:
            writer.close()
            served.set()

    server = await asyncio.start_server(serve, link.host_ip, 0)
    port = server.sockets[0].getsockname()[1]
    subscriber: asyncio.subprocess.Process | None = None
    try:
        for pid in ("ana", "ben", "cho"):
            people[pid] = Colleague(pid, router, clips, layered)
            await people[pid].join()
        await asyncio.sleep(2)  # the colleagues' media flowing before the thin one joins
        started = time.time()
        subscriber = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", link.namespace, sys.executable, "-m",
            "tests.signaling.thin_link", link.host_ip, str(port), str(seconds),
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(subscriber.communicate(), timeout=seconds + 60)
        frames: dict[str, dict[str, list[float]]] = json.loads(out.decode().splitlines()[-1])
        await asyncio.wait_for(served.wait(), timeout=10)  # its socket closed with it
    finally:
        if subscriber is not None and subscriber.returncode is None:
            subscriber.kill()
        server.close()
        await server.wait_closed()
        await router.close()
        for person in people.values():
            await person.close()

    start, end = started + warmup, started + seconds - 0.5
    window = end - start

    def rate(times: list[float]) -> float:
        return sum(1 for t in times if start <= t < end) / window

    paused_streams = _paused_spans(told, end)
    thin: dict[tuple[str, str], float] = {}
    freezes: dict[str, int] = {}
    paused: dict[str, float] = {}
    for publisher in ("ana", "ben"):
        kinds = frames.get(publisher, {})
        thin[(publisher, "audio")] = rate(kinds.get("audio", []))
        thin[(publisher, "video")] = rate(kinds.get("video", []))
        spans = [span for stream, spans_of in paused_streams.items()
                 if streams_of.get(stream) == publisher for span in spans_of]
        paused[publisher] = sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)
        video = [t for t in kinds.get("video", []) if start <= t < end]
        gaps = zip([start, *video], [*video, end], strict=True)
        freezes[publisher] = sum(1 for a, b in gaps if b - a > 0.5
                                 and not any(s <= a and b <= e + 0.5 for s, e in spans))
    colleague = {key: rate(times) for key, times in people["cho"].received().items()}
    warmup_audio = {publisher: sum(1 for t in frames.get(publisher, {}).get("audio", [])
                                   if started <= t < start) / warmup
                    for publisher in ("ana", "ben")}
    return Report(window, thin, freezes, paused, colleague, warmup_audio, told)


def _paused_spans(told: list[tuple[float, dict[str, str]]],
                  end: float) -> dict[str, list[tuple[float, float]]]:
    """Stream -> the (from, to) wall-clock spans it was paused, from what the client was told."""
    spans: dict[str, list[tuple[float, float]]] = {}
    since: dict[str, float] = {}
    for when, streams in told:
        for stream in streams:
            since.setdefault(stream, when)
        for stream in [s for s in since if s not in streams]:
            spans.setdefault(stream, []).append((since.pop(stream), when))
    for stream, when in since.items():
        spans.setdefault(stream, []).append((when, end))
    return spans


# -- the subscriber inside the namespace ------------------------------------------------


async def subscribe(host: str, port: int, seconds: float) -> dict[str, dict[str, list[float]]]:
    """Join, receive for ``seconds``, and return when each frame arrived whole.

    Frames are counted as they arrive, at the packet level: an audio packet is a frame;
    a video frame counts once every packet from the one after the previous frame's last
    (the marker bit) to its own last has arrived, retransmissions included. Decoding
    here would measure this process's two cores, not the link: three 640x480 decoders
    fall behind, and an aiortc receiver that falls behind decodes nothing. Whether a
    forwarded stream decodes is shown by Chromium (tests/web/live).

    Packets are told apart by SSRC, as the server's offers declare them: aiortc routes
    a packet to the first receiver of its payload type when the SSRC is not yet known,
    and never moves that SSRC again when a later offer names it (browsers route by the
    mid header extension instead)."""
    reader, writer = await asyncio.open_connection(host, port)
    # Audio only, on aiortc's default bundle policy: the server must still bundle
    # every stream it adds (see MediaRouter.add).
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(AudioStreamTrack(), direction="sendonly")  # the client offers first
    publishers: dict[str, str] = {}
    arrived: dict[str, list[tuple[float, int, bool]]] = {}  # mid -> (time, seq, marker)
    mid_of: dict[int, str] = {}  # SSRC -> mid, from the server's offers

    def arrive(packet: RtpPacket) -> None:
        mid = mid_of.get(packet.ssrc)
        if mid is not None:
            arrived.setdefault(mid, []).append(
                (time.time(), packet.sequence_number, bool(packet.marker)))

    tapped: set[str] = set()
    await pc.setLocalDescription(await pc.createOffer())
    writer.write(json.dumps({"op": "join", "sdp": pc.localDescription.sdp}).encode() + b"\n")

    async def signaling() -> None:
        while line := await reader.readline():
            message = json.loads(line)
            if message["op"] == "answer":
                await pc.setRemoteDescription(
                    RTCSessionDescription(sdp=message["sdp"], type="answer"))
            elif message["op"] == "offer":
                publishers.update(message["streams"])
                mid_of.update({ssrc: mid for mid, ssrc in media_ssrcs(message["sdp"]).items()})
                await pc.setRemoteDescription(
                    RTCSessionDescription(sdp=message["sdp"], type="offer"))
                for t in pc.getTransceivers():
                    if t.mid is not None and t.mid not in tapped and t.sender.track is None:
                        tapped.add(t.mid)
                        encoded.tap_receiver(t.receiver, lambda frame: None, lambda: None)
                        encoded.tap_packets(t.receiver, arrive)
                await pc.setLocalDescription(await pc.createAnswer())
                writer.write(json.dumps({"op": "answer", "sdp": pc.localDescription.sdp})
                             .encode() + b"\n")

    talking = asyncio.ensure_future(signaling())
    await asyncio.sleep(seconds)
    mids = stream_ids(pc.remoteDescription.sdp)
    out: dict[str, dict[str, list[float]]] = {}
    for t in pc.getTransceivers():
        publisher = publishers.get(mids.get(t.mid or "", ""))
        if publisher is not None and t.mid in arrived:
            packets = arrived[t.mid or ""]
            out.setdefault(publisher, {})[t.kind] = (
                [when for when, _, _ in packets] if t.kind == "audio" else whole_frames(packets))
    talking.cancel()
    writer.close()
    await pc.close()
    return out


def whole_frames(packets: list[tuple[float, int, bool]]) -> list[float]:
    """When each video frame had all its packets: (arrival time, sequence number,
    marker) in arrival order, sequence numbers without a wrap (seconds of a call)."""
    first_arrival: dict[int, float] = {}
    markers: list[int] = []
    for when, seq, marker in packets:
        first_arrival.setdefault(seq, when)
        if marker:
            markers.append(seq)
    times = []
    for previous, last in pairwise(sorted(set(markers))):
        span = range(previous + 1, last + 1)
        if all(seq in first_arrival for seq in span):
            times.append(max(first_arrival[seq] for seq in span))
    return sorted(times)


if __name__ == "__main__":
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sys.stdout.write(json.dumps(asyncio.run(subscribe(host, port, seconds))) + "\n")
