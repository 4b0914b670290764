"""The delay the media server adds (issue 13): glass to glass through the room, beside a
direct peer connection measured in the same run.

Run by hand, not a test:

    python bench/delay.py                      # --seconds 20 --paths direct,packets,frames

One aiortc publisher sends 640x480 VP8 at 30 fps whose every picture carries its own
index, drawn as 16 black or white blocks, and Opus audio that is silent but for a
40 ms tone every 600 ms. One aiortc subscriber decodes both: a picture's delay is from
the moment its frame left the publisher's track to the moment the subscriber decoded
it and read the index back; a burst's delay is from the moment its first audio frame
left the track to the first loud decoded frame. Both include encoding, the network,
the subscriber's jitter buffer and decoding, the same on every path, so the
difference between "direct" and a room path is what the server adds.

Paths: "direct" (publisher and subscriber connected to each other), "packets" and
"frames" (through the media router forwarding packets or reassembled frames; it runs
in its own process, bench/forwarding.py's server).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import math
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from av import AudioFrame, VideoFrame

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import (  # noqa: E402
    AudioStreamTrack,
    MediaStreamError,
    MediaStreamTrack,
)

WIDTH, HEIGHT, FPS = 640, 480, 30
BITS, BLOCK = 16, 32  # the index: 16 blocks of 32x32 pixels along the top
BURST_EVERY, BURST_FRAMES = 30, 2  # audio: a 40 ms tone every 600 ms (20 ms frames)
FORWARDING = Path(__file__).with_name("forwarding.py")


class StampedVideo(MediaStreamTrack):
    """Pictures that carry their own index; ``sent[index]`` is when each left."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[int, float] = {}
        self._count = 0
        self._start: float | None = None
        self._background = np.full((HEIGHT, WIDTH, 3), 96, dtype=np.uint8)

    async def recv(self) -> VideoFrame:
        self._start = self._start or time.monotonic()
        wait = self._start + self._count / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        index = self._count % (1 << BITS)
        image = self._background.copy()
        image[BLOCK * 2:, (self._count * 8) % WIDTH] = 255  # something moving
        for bit in range(BITS):
            value = 255 if index >> bit & 1 else 0
            image[:BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = value
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = self._count * 3000, Fraction(1, 90000)
        self._count += 1
        self.sent[index] = time.monotonic()
        return frame


def read_index(frame: VideoFrame) -> int:
    gray = frame.to_ndarray(format="gray")
    centre = BLOCK // 2
    return sum(1 << bit for bit in range(BITS)
               if gray[centre, bit * BLOCK + centre] > 128)


class BurstAudio(MediaStreamTrack):
    """Silence with a 1 kHz tone burst every 600 ms; ``bursts`` is when each left."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.bursts: list[float] = []
        self._count = 0
        self._start: float | None = None
        t = np.arange(960 * BURST_FRAMES) / 48000
        self._tone = (np.sin(2 * math.pi * 1000 * t) * 16000).astype(np.int16)

    async def recv(self) -> AudioFrame:
        self._start = self._start or time.monotonic()
        wait = self._start + self._count * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        phase = self._count % BURST_EVERY
        samples = np.zeros(960, dtype=np.int16)
        if phase < BURST_FRAMES:
            samples = self._tone[phase * 960:(phase + 1) * 960]
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, self._count * 960
        frame.time_base = Fraction(1, 48000)
        self._count += 1
        if phase == 0:
            self.bursts.append(time.monotonic())
        return frame


class Subscriber:
    """Decodes what it receives and measures each picture's and burst's delay."""

    def __init__(self, video: StampedVideo, audio: BurstAudio) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._video, self._audio = video, audio
        self.video_delays: list[tuple[float, float]] = []  # (when, delay)
        self.audio_delays: list[tuple[float, float]] = []
        self.audio_frames: list[float] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        reader = self._read_video if track.kind == "video" else self._read_audio
        self._tasks.append(asyncio.ensure_future(reader(track)))

    async def _read_video(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                sent = self._video.sent.get(read_index(frame))  # type: ignore[arg-type]
                if sent is not None and 0 <= now - sent < 5:
                    self.video_delays.append((now, now - sent))
        except MediaStreamError:
            pass

    async def _read_audio(self, track: MediaStreamTrack) -> None:
        loud = False
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                self.audio_frames.append(now)
                peak = int(np.abs(frame.to_ndarray()).max())  # type: ignore[union-attr]
                if peak > 4000 and not loud:
                    at = bisect.bisect_right(self._audio.bursts, now) - 1
                    if at >= 0:
                        self.audio_delays.append((now, now - self._audio.bursts[at]))
                loud = peak > 4000
        except MediaStreamError:
            pass

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()


async def connect_direct(publisher: RTCPeerConnection, subscriber: Subscriber) -> Any:
    await publisher.setLocalDescription(await publisher.createOffer())
    await subscriber.pc.setRemoteDescription(publisher.localDescription)
    await subscriber.pc.setLocalDescription(await subscriber.pc.createAnswer())
    await publisher.setRemoteDescription(subscriber.pc.localDescription)

    async def close() -> None:
        pass

    return close


async def connect_room(mode: str, publisher: RTCPeerConnection,
                       subscriber: Subscriber) -> Any:
    """Both join bench/forwarding.py's server; the subscriber publishes silence only."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(FORWARDING), "--serve", mode, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    port = int(await proc.stdout.readline())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    pcs = {"pub": publisher, "sub": subscriber.pc}
    answers: dict[str, asyncio.Future[str]] = {}
    chain = {pid: asyncio.Lock() for pid in pcs}

    def send(message: dict[str, Any]) -> None:
        writer.write(json.dumps(message).encode() + b"\n")

    async def answer(msg: dict[str, Any]) -> None:
        pc = pcs[msg["pid"]]
        async with chain[msg["pid"]]:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            send({"op": "answer", "pid": msg["pid"], "sdp": pc.localDescription.sdp})

    async def pump() -> None:
        while line := await reader.readline():
            msg = json.loads(line)
            if msg["op"] == "answer":
                answers.pop(msg["pid"]).set_result(msg["sdp"])
            else:
                asyncio.ensure_future(answer(msg))

    pumping = asyncio.ensure_future(pump())
    subscriber.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
    for pid, pc in pcs.items():
        async with chain[pid]:
            await pc.setLocalDescription(await pc.createOffer())
            answers[pid] = asyncio.get_running_loop().create_future()
            send({"op": "offer", "pid": pid, "sdp": pc.localDescription.sdp})
            sdp = await answers[pid]
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def close() -> None:
        send({"op": "close"})
        await proc.wait()
        pumping.cancel()
        writer.close()

    return close


def quantiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return math.nan, math.nan
    return statistics.median(values), statistics.quantiles(values, n=10)[-1]


async def measure(path: str, seconds: float, warmup: float) -> dict[str, Any]:
    video, audio = StampedVideo(), BurstAudio()
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publisher.addTransceiver(video, direction="sendonly")
    publisher.addTransceiver(audio, direction="sendonly")
    subscriber = Subscriber(video, audio)
    if path == "direct":
        close = await connect_direct(publisher, subscriber)
    else:
        close = await connect_room(path, publisher, subscriber)
    await asyncio.sleep(warmup)
    start = time.monotonic()
    await asyncio.sleep(seconds)
    end = time.monotonic()
    await close()
    await subscriber.close()
    await publisher.close()

    def window(pairs: list[tuple[float, float]]) -> list[float]:
        return [delay * 1000 for when, delay in pairs if start <= when < end]

    video_ms, audio_ms = window(subscriber.video_delays), window(subscriber.audio_delays)
    audio_frames = sum(1 for when in subscriber.audio_frames if start <= when < end)
    return {"path": path, "video": quantiles(video_ms), "audio": quantiles(audio_ms),
            "fps": len(video_ms) / (end - start), "bursts": len(audio_ms),
            "audio_fps": audio_frames / (end - start)}


async def main(args: argparse.Namespace) -> None:
    results = []
    print("| path | video median ms | video p90 ms | audio median ms | audio p90 ms "
          "| video fps | audio frames/s | bursts |")
    print("|" + "---|" * 8, flush=True)
    for _ in range(args.rounds):
        for path in args.paths:
            r = await measure(path, args.seconds, args.warmup)
            results.append(r)
            print(f"| {r['path']} | {r['video'][0]:.1f} | {r['video'][1]:.1f} "
                  f"| {r['audio'][0]:.1f} | {r['audio'][1]:.1f} | {r['fps']:.1f} "
                  f"| {r['audio_fps']:.1f} | {r['bursts']} |", flush=True)
    direct = [r for r in results if r["path"] == "direct"]
    if not direct:
        return
    base_video = statistics.median(r["video"][0] for r in direct)
    base_audio = statistics.median(r["audio"][0] for r in direct)
    print()
    print("added by the server (median of the path's medians minus the direct one's):")
    for path in args.paths:
        if path == "direct":
            continue
        rows = [r for r in results if r["path"] == path]
        video = statistics.median(r["video"][0] for r in rows) - base_video
        audio = statistics.median(r["audio"][0] for r in rows) - base_audio
        print(f"  {path}: video {video:+.1f} ms, audio {audio:+.1f} ms")


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the paths in turn (a drift in load touches each alike)")
    parser.add_argument("--paths", type=lambda text: text.split(","),
                        default=["direct", "packets", "frames"])
    asyncio.run(main(parser.parse_args()))
