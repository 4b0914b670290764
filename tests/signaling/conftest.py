"""Real aiortc test clients for the media router, wired without any WebSocket."""

from __future__ import annotations

import asyncio
import fractions
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from av import VideoFrame

from signaling.forwarding import FORWARDING, MediaRouter
from signaling.sdp import stream_ids

FIXTURES = Path(__file__).parent / "fixtures"


class SyntheticVideo(MediaStreamTrack):
    """Small generated video, one new frame per ``recv`` at ``fps`` (cheap to encode)."""

    kind = "video"

    def __init__(self, *, width: int = 320, height: int = 240, fps: int = 15) -> None:
        super().__init__()
        self._size = (height, width)
        self._fps = fps
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._count / self._fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        image = np.full((*self._size, 3), (self._count * 7) % 256, dtype=np.uint8)
        image[:, (self._count * 4) % self._size[1]] = 255  # a moving bar
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._count * (90000 // self._fps)
        frame.time_base = fractions.Fraction(1, 90000)
        self._count += 1
        return frame


class Client:
    """One participant's browser stand-in: publishes, answers, counts decoded frames."""

    def __init__(self, participant_id: str, router: MediaRouter,
                 config: RTCConfiguration | None = None) -> None:
        self.id = participant_id
        self.router = router
        self.pc = RTCPeerConnection(config or RTCConfiguration(iceServers=[]))
        self.streams: dict[str, str] = {}
        self.offers: list[str] = []
        self.frames: dict[MediaStreamTrack, int] = {}
        self.first_frame: dict[MediaStreamTrack, float] = {}
        self.joined_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        # A browser queues setRemoteDescription calls on its operations chain,
        # so a server offer that arrives while the answer is still being applied
        # waits its turn; aiortc has no such chain, so the test client keeps one.
        self._chain = asyncio.Lock()
        self.pc.on("track", self._on_track)

    async def join(self) -> None:
        """Publish audio and video: the client's first offer, then the server's re-offer."""
        self.joined_at = time.monotonic()
        await self.router.add(self.id)
        self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        self.pc.addTransceiver(SyntheticVideo(), direction="sendonly")
        async with self._chain:
            await self.pc.setLocalDescription(await self.pc.createOffer())
            answer = await self.router.accept_offer(self.id, self.pc.localDescription.sdp)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def on_offer(self, sdp: str, streams: dict[str, str]) -> None:
        async with self._chain:
            self.offers.append(sdp)
            self.streams.update(streams)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.router.accept_answer(self.id, self.pc.localDescription.sdp)

    def payload_types(self, codec: str) -> set[int]:
        """The payload types the server's offer gave ``codec`` (e.g. "VP8", "rtx")."""
        return {int(pt) for pt in re.findall(rf"a=rtpmap:(\d+) {codec}/",
                                             self.pc.remoteDescription.sdp)}

    def receiving(self) -> list[RTCRtpTransceiver]:
        return [t for t in self.pc.getTransceivers() if t.currentDirection == "recvonly"]

    def publisher(self, transceiver: RTCRtpTransceiver) -> str | None:
        mid = transceiver.mid
        streams = stream_ids(self.pc.remoteDescription.sdp)
        return self.streams.get(streams.get(mid or "", ""))

    def frames_from(self, publisher: str, kind: str) -> int:
        return sum(
            self.frames.get(t.receiver.track, 0)
            for t in self.receiving()
            if t.kind == kind and self.publisher(t) == publisher
        )

    def first_video_from(self, publisher: str) -> float | None:
        times = [
            self.first_frame[t.receiver.track]
            for t in self.receiving()
            if t.kind == "video"
            and self.publisher(t) == publisher
            and t.receiver.track in self.first_frame
        ]
        return min(times, default=None)

    def _on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.ensure_future(self._consume(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, track: MediaStreamTrack) -> None:
        self.frames[track] = 0
        try:
            while True:
                await track.recv()
                self.first_frame.setdefault(track, time.monotonic())
                self.frames[track] += 1
        except MediaStreamError:
            pass

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()


class Room:
    """A router plus the clients that join it; the on_offer callback routes to them."""

    def __init__(self, *, on_keyframe_request: Callable[[], None] = lambda: None,
                 forwarding: str = "packets") -> None:
        self.clients: dict[str, Client] = {}
        self.router = MediaRouter(ice_servers=[], on_offer=self._on_offer,
                                  on_keyframe_request=on_keyframe_request,
                                  forwarding=forwarding)

    async def _on_offer(self, participant_id: str, sdp: str, streams: dict[str, str]) -> None:
        await self.clients[participant_id].on_offer(sdp, streams)

    async def join(self, participant_id: str,
                   config: RTCConfiguration | None = None) -> Client:
        client = Client(participant_id, self.router, config)
        self.clients[participant_id] = client
        await client.join()
        return client

    async def leave(self, participant_id: str) -> None:
        client = self.clients.pop(participant_id)
        await self.router.remove(participant_id)
        await client.close()

    async def close(self) -> None:
        await self.router.close()
        for client in list(self.clients.values()):
            await client.close()
        self.clients.clear()


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await asyncio.sleep(0.05)


@pytest.fixture(params=FORWARDING)
async def room(request: pytest.FixtureRequest) -> AsyncIterator[Room]:
    """A room forwarding packets, and one forwarding frames: both must hold a meeting."""
    room = Room(forwarding=request.param)
    yield room
    await room.close()


@dataclass(frozen=True)
class BrowserOffer:
    """A golden browser offer and what the server must read from it and keep."""

    name: str
    sdp: str
    opus: int  # payload types the browser chose
    vp8: int
    vp8_rtx: int
    audio_level: int  # its RTP header extension ids (RFC 8285)
    abs_send_time: int
    mid: int
    stream: str  # the a=msid stream id both of its m-lines carry
    ssrcs: dict[str, int]  # mid -> media SSRC


BROWSER_OFFERS = {
    # Chrome 120: VP8 at 96, Chrome's extmap ids, sendrecv m-lines.
    "chrome": BrowserOffer(
        "chrome", (FIXTURES / "chrome_offer.sdp").read_text(), opus=111, vp8=96, vp8_rtx=97,
        audio_level=1, abs_send_time=2, mid=4, stream="5d8b7a9e-2c41-4f7e-9a55-0c6f1d2e3b4a",
        ssrcs={"0": 1417389016, "1": 2960389318}),
    # Firefox, as the room's script makes it (sendonly, bundlePolicy max-bundle): VP8 at
    # 120 (rtx 124), Opus at 109, the mid extension at 3, {uuid} msids, a session-level
    # fingerprint, /recvonly extmaps, and the video m-line at port 0 with a=bundle-only.
    "firefox": BrowserOffer(
        "firefox", (FIXTURES / "firefox_offer.sdp").read_text(), opus=109, vp8=120,
        vp8_rtx=124, audio_level=1, abs_send_time=4, mid=3,
        stream="{b6a1f0e2-5c3d-4e7f-9a8b-1c2d3e4f5a6b}",
        ssrcs={"0": 2853706123, "1": 1493570254}),
}


@pytest.fixture(params=sorted(BROWSER_OFFERS))
def browser_offer(request: pytest.FixtureRequest) -> BrowserOffer:
    """Each golden browser offer in turn: the SDP code must read both shapes."""
    return BROWSER_OFFERS[request.param]
