"""Media clips encoded once and looped in real time: what the benchmarks' and the
thin-link test's participants publish, without encoding per frame (so a test process
can play several participants and still measure the server, not itself)."""

from __future__ import annotations

import asyncio
import math
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

FPS = 30
CLIP_SECONDS = 10
WIDTH, HEIGHT = 640, 480
BITRATE = 1_000_000


def encode_video_clip(seconds: int = CLIP_SECONDS) -> list[bytes]:
    """``seconds`` of a panning textured picture as VP8 at ~1 Mbit/s.

    Only frame 0 is a keyframe (about 40 kB, like a camera's at this rate).
    """
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.bit_rate, codec.time_base = BITRATE, Fraction(1, FPS)
    codec.framerate = Fraction(FPS)
    codec.gop_size = 100_000  # keyframes only on demand (a PLI restarts the clip)
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:HEIGHT, 0 : WIDTH * 2]
    base = np.stack([(xx // 5) % 256, (yy // 2) % 256, ((xx + yy) // 7) % 256], -1)
    noise = rng.integers(-100, 101, (HEIGHT // 8, WIDTH // 4, 3)).repeat(8, 0).repeat(8, 1)
    texture = np.clip(base + noise, 0, 255).astype(np.uint8)
    packets = []
    for i in range(FPS * seconds):
        shift = (i * 6) % WIDTH
        image = np.ascontiguousarray(texture[:, shift : shift + WIDTH])
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += codec.encode(frame)
    packets += codec.encode(None)
    return [bytes(p) for p in packets]


def encode_audio_clip() -> list[bytes]:
    """One second of a 440 Hz tone as 20 ms Opus packets."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = 48000, "stereo", "s16"
    codec.bit_rate = 32000
    t = np.arange(48000) / 48000
    pcm = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
    packets = []
    for start in range(0, 48000, 960):
        chunk = np.repeat(pcm[start : start + 960], 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, start
        packets += codec.encode(frame)
    return [bytes(p) for p in packets]


class ClipTrack(MediaStreamTrack):
    """Loops pre-encoded packets in real time; a keyframe request restarts the clip.

    The clip's first frame (a video clip's keyframe) is sent only at the start and on a
    keyframe request: a loop goes on from the frame after it, as a camera sends key
    frames only when asked (the pictures decode with the wrong references, which no
    test of delivery can see)."""

    def __init__(self, kind: str, clip: list[bytes], rate: float, clock: int) -> None:
        super().__init__()
        self.kind, self._clip, self._rate, self._clock = kind, clip, rate, clock
        self._n = self._index = 0
        self._start: float | None = None

    def restart(self) -> None:
        self._index = 0

    async def recv(self) -> av.Packet[Any]:
        self._start = self._start or time.monotonic()
        wait = self._start + self._n / self._rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        packet = av.Packet(self._clip[self._index])
        packet.pts = int(self._n * self._clock / self._rate)
        packet.time_base = Fraction(1, self._clock)
        self._n += 1
        self._index = self._index + 1 if self._index + 1 < len(self._clip) else min(
            1, len(self._clip) - 1)
        return packet
