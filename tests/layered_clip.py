"""A camera in three temporal layers, recorded from Chromium once and replayed: what a
real browser publishes (VP8 ``L1T3``), for tests and benchmarks that play many
participants in one process.

aiortc's VP8 encoder (FFmpeg's libvpx) has no temporal layers, so a thin link fed by
aiortc publishers can only go from a whole stream to a paused one. Chromium is the
publisher that matters, and the one that makes layers: ``record`` has a headless
Chromium send its fake camera with ``scalabilityMode: "L1T3"`` to an aiortc peer and
keeps the RTP payloads (descriptors included) of a few seconds, from a keyframe.
``LayeredPublisher`` sends them again in a loop, at their pace, as its own packets
(``signaling.encoded.PacketSender``), with sequence numbers, timestamps and picture
ids running on across loops as a camera's would. Like a camera it sends a key frame
only when asked: a loop goes on from the frame after the recording's keyframe, and a
keyframe request restarts it at the keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket
from playwright.async_api import async_playwright

from signaling import encoded, vp8

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

PUBLISH = """async ({bitrate}) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 640, height: 480, frameRate: 30}});
  const pc = new RTCPeerConnection();
  window.pc = pc;
  const t = pc.addTransceiver(stream.getVideoTracks()[0], {direction: "sendonly",
    sendEncodings: [{scalabilityMode: "L1T3", maxBitrate: bitrate}]});
  t.setCodecPreferences(RTCRtpSender.getCapabilities("video").codecs
    .filter((c) => c.mimeType === "video/VP8"));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") done();
    });
  });
  return pc.localDescription.sdp;
}"""


@dataclass(frozen=True)
class LayeredClip:
    """Frames of VP8 in temporal layers: each its RTP payloads in order, the first a
    keyframe; ``fps`` the pace they were sent at."""

    frames: list[list[bytes]]
    fps: float

    def layers(self) -> list[int | None]:
        """Each frame's temporal layer."""
        found = []
        for payloads in self.frames:
            descriptor = vp8.read(payloads[0])
            found.append(descriptor.temporal_layer if descriptor else None)
        return found


async def record(seconds: float = 4.0, bitrate: int = 900_000) -> LayeredClip:
    """Record ``seconds`` of Chromium's fake camera (640x480, 20 frames a second) sent in
    L1T3 VP8 at up to ``bitrate``."""
    packets: list[RtpPacket] = []
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    got_track = asyncio.Event()

    def on_track(track: MediaStreamTrack) -> None:
        for transceiver in pc.getTransceivers():
            if transceiver.receiver.track is track:
                encoded.tap_packets(transceiver.receiver, packets.append)
        got_track.set()

    pc.on("track", on_track)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            # A page of localhost (a secure context, so the camera is there), served by
            # Playwright itself.
            await page.route("http://localhost/", lambda route: route.fulfill(
                body="<!doctype html><title>camera</title>", content_type="text/html"))
            await page.goto("http://localhost/")
            offer = await page.evaluate(PUBLISH, {"bitrate": bitrate})
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await page.evaluate("(sdp) => window.pc.setRemoteDescription({type: 'answer', sdp})",
                                pc.localDescription.sdp)
            await asyncio.wait_for(got_track.wait(), 20)
            await asyncio.sleep(3.0 + seconds)  # past the start's ramp-up, then the clip
        finally:
            await browser.close()
            await pc.close()
    return _clip(packets, seconds)


def _clip(packets: list[RtpPacket], seconds: float) -> LayeredClip:
    by_frame: dict[int, dict[int, RtpPacket]] = {}  # timestamp -> sequence number -> packet
    for packet in packets:  # retransmissions arrive twice: kept once
        by_frame.setdefault(packet.timestamp, {})[packet.sequence_number] = packet
    stamps = sorted(by_frame)  # seconds of RTP time: no wrap
    keyframes = [ts for ts in stamps
                 if vp8.starts_keyframe(by_frame[ts][min(by_frame[ts])].payload)]
    end = stamps[-2]  # the last frame may be cut off
    first = max([ts for ts in keyframes if end - ts >= seconds * 90000] or keyframes[:1])
    kept = [ts for ts in stamps if first <= ts <= min(end, first + int(seconds * 90000))]
    frames = []
    for ts in kept:
        numbers = sorted(by_frame[ts])
        if numbers[-1] - numbers[0] + 1 != len(numbers):
            raise RuntimeError("a recorded frame lost packets: record again")
        frames.append([by_frame[ts][n].payload for n in numbers])
    return LayeredClip(frames, (len(kept) - 1) / ((kept[-1] - kept[0]) / 90000))


class _Idle(MediaStreamTrack):
    """A track that never produces: the publisher's packets go out by ``PacketSender``."""

    kind = "video"

    async def recv(self) -> Any:
        await asyncio.get_running_loop().create_future()


class LayeredPublisher:
    """Sends a :class:`LayeredClip` on one video transceiver, looping."""

    def __init__(self, pc: RTCPeerConnection, clip: LayeredClip) -> None:
        self.clip = clip
        self.transceiver = pc.addTransceiver(_Idle(), direction="sendonly")
        self.sender: RTCRtpSender = self.transceiver.sender
        encoded.on_keyframe_request(self.sender, self.restart)
        self._index = 0
        self._pictures = vp8.PictureRewriter()
        self._task: asyncio.Task[None] | None = None

    def restart(self) -> None:
        """A keyframe request: the loop starts again at its keyframe."""
        self._index = 0
        self._pictures.restart()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        wire = encoded.PacketSender(self.sender)
        payload_type = encoded.payload_type(self.transceiver)
        sequence, n, started = 0, 0, time.monotonic()
        while True:
            wait = started + n / self.clip.fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._index <= 1:  # the recording's numbers start again
                self._pictures.restart()
            payloads = self.clip.frames[self._index]
            timestamp = int(n * 90000 / self.clip.fps) % (1 << 32)
            for i, payload in enumerate(payloads):
                descriptor = vp8.read(payload)
                out = self._pictures.rewrite(payload, descriptor) if descriptor else payload
                packet = RtpPacket(payload_type=payload_type, marker=i == len(payloads) - 1,
                                   sequence_number=sequence % (1 << 16), timestamp=timestamp,
                                   payload=out or payload)
                sequence += 1
                with contextlib.suppress(ConnectionError):  # not connected yet
                    wire.send(packet)
            n += 1
            self._index += 1
            if self._index == len(self.clip.frames):
                self._index = 1  # on from the frame after the keyframe

