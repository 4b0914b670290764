"""A Python participant of a live room, with aiortc: for tests, benchmarks and bots.

It speaks the CONTRACT protocol: ``join``, one peer connection to the server
(its own offer first), answers to the server's re-offers, and it keeps the
``tracks`` map so every received track is known by its publisher::

    async with RoomClient(url, token=api_token) as client:
        await client.join()
        await client.publish([audio_track, video_track])
        await client.wait_for(lambda: len(client.received_from()) == 2)

Messages other than negotiation are kept in ``messages`` (and waited for with
``expect``), so a recording or transcription bot can follow the agenda.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from signaling.sdp import stream_ids

Message = dict[str, Any]


class RoomClient:
    """One participant: a WebSocket to ``url`` and a peer connection to the server."""

    def __init__(self, url: str, *, token: str | None = None,
                 headers: dict[str, str] | None = None,
                 ice_servers: Sequence[RTCIceServer] = (),
                 consume: bool = True, receive_video: bool = True,
                 on_remote_offer: Callable[[RTCPeerConnection], None] | None = None) -> None:
        self.url = f"{url}{'&' if '?' in url else '?'}token={token}" if token else url
        self.headers = headers or {}
        # Never let aiortc fall back to a public STUN server (none is reachable here).
        self.ice_servers = list(ice_servers)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=self.ice_servers))
        self.consume = consume
        self.receive_video = receive_video  # False: the low-bandwidth mode, audio only in
        # Called with the peer connection once a server offer is applied, before the
        # answer: the moment to tap new receivers (a bot, the benchmark's counters).
        self.on_remote_offer = on_remote_offer
        self.socket: ClientConnection | None = None
        self.participant_id: str | None = None
        self.messages: list[Message] = []
        self.streams: dict[str, str] = {}
        self.frames: dict[MediaStreamTrack, int] = {}
        self.first_frame_at: dict[MediaStreamTrack, float] = {}
        self.ended: set[MediaStreamTrack] = set()
        self.close_code: int | None = None
        self._arrived = asyncio.Condition()
        self._chain = asyncio.Lock()  # a browser's operations chain, kept by hand
        self._tasks: set[asyncio.Task[None]] = set()
        self.pc.on("track", self._on_track)

    async def __aenter__(self) -> RoomClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object | TracebackType) -> None:
        await self.close()

    async def open(self) -> None:
        self.socket = await connect(self.url, additional_headers=self.headers,
                                    max_size=1 << 20, open_timeout=10)
        self._spawn(self._read())

    async def send(self, message: Message) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(message))

    async def send_raw(self, text: str) -> None:
        assert self.socket is not None
        await self.socket.send(text)

    async def join(self, display_name: str | None = None) -> Message:
        """Send ``join``; returns ``welcome`` (or ``lobby`` for a guest)."""
        body: Message = {"type": "join"}
        if display_name:
            body["display_name"] = display_name
        mark = len(self.messages)
        await self.send(body)
        reply = await self.expect(lambda m: m["type"] in ("welcome", "lobby"), after=mark)
        if reply["type"] == "welcome":
            self.participant_id = reply["participant_id"]
        return reply

    async def publish(self, tracks: Sequence[MediaStreamTrack]) -> None:
        """Send ``tracks`` (and receive everyone else's): the client's offer."""
        for track in tracks:
            self.pc.addTransceiver(track, direction="sendonly")
        async with self._chain:
            await self.pc.setLocalDescription(await self.pc.createOffer())
            mark = len(self.messages)
            await self.send({"type": "offer", "sdp": self.pc.localDescription.sdp})
            answer = await self.expect(lambda m: m["type"] in ("answer", "error"), after=mark)
            if answer["type"] == "error":
                raise RuntimeError(f"offer refused: {answer['message']}")
            await self.pc.setRemoteDescription(
                RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    async def renew_peer(self) -> None:
        """A new peer connection, for when the server dropped this participant's media
        (a guest sent back to the lobby, then let in again): ``publish`` again after."""
        async with self._chain:
            await self.pc.close()
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=self.ice_servers))
            self.pc.on("track", self._on_track)

    async def packets_received(self) -> int:
        """RTP packets received so far on the current peer connection (its stats)."""
        report = await self.pc.getStats()
        return sum(getattr(s, "packetsReceived", 0) for s in report.values()
                   if s.type == "inbound-rtp")

    async def expect(self, predicate: Callable[[Message], bool], *, after: int = 0,
                     timeout: float = 10.0) -> Message:
        """The first message (from index ``after``) matching ``predicate``."""
        async def find() -> Message:
            async with self._arrived:
                while True:
                    for message in self.messages[after:]:
                        if predicate(message):
                            return message
                    if self.close_code is not None:
                        raise ConnectionError(f"socket closed with {self.close_code}")
                    await self._arrived.wait()
        return await asyncio.wait_for(find(), timeout)

    async def wait_closed(self, timeout: float = 10.0) -> int:
        """The close code, once the server has closed the socket."""
        async def closed() -> int:
            async with self._arrived:
                while self.close_code is None:
                    await self._arrived.wait()
                return self.close_code
        return await asyncio.wait_for(closed(), timeout)

    @staticmethod
    async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s")
            await asyncio.sleep(0.05)

    def receiving(self) -> list[RTCRtpTransceiver]:
        return [t for t in self.pc.getTransceivers() if t.currentDirection == "recvonly"]

    def publisher_of(self, transceiver: RTCRtpTransceiver) -> str | None:
        """Whose media a received transceiver carries (from the ``tracks`` map)."""
        if self.pc.remoteDescription is None:
            return None
        msid = stream_ids(self.pc.remoteDescription.sdp).get(transceiver.mid or "", "")
        return self.streams.get(msid)

    def received_from(self, kind: str = "video") -> dict[str, int]:
        """Frames received so far, per publisher, for live ``kind`` tracks."""
        counts: dict[str, int] = {}
        for t in self.receiving():
            publisher = self.publisher_of(t)
            track = t.receiver.track
            if t.kind == kind and publisher and track not in self.ended:
                counts[publisher] = counts.get(publisher, 0) + self.frames.get(track, 0)
        return counts

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()

    # -- internals ------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self) -> None:
        assert self.socket is not None
        try:
            async for text in self.socket:
                message = json.loads(text)
                if message["type"] == "tracks":
                    self.streams.update(message["streams"])
                elif message["type"] == "offer":
                    # Answer on the side: ``publish`` may hold the chain while it
                    # waits for its own answer, which this loop must still read.
                    self._spawn(self._answer(message["sdp"]))
                async with self._arrived:
                    self.messages.append(message)
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.socket.close_code
            async with self._arrived:
                self.close_code = rcvd if rcvd is not None else 1006
                self._arrived.notify_all()

    async def _answer(self, sdp: str) -> None:
        async with self._chain:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if self.on_remote_offer is not None:
                self.on_remote_offer(self.pc)
            if not self.receive_video:
                # Decline others' video in the answer (RFC 3264 section 6: an
                # inactive m-line), so the server sends none over a thin link.
                for t in self.pc.getTransceivers():
                    if t.kind == "video" and t.direction == "recvonly":
                        t.direction = "inactive"
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.send({"type": "answer", "sdp": self.pc.localDescription.sdp})

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.frames[track] = 0
        if self.consume:
            self._spawn(self._count(track))

    async def _count(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.first_frame_at.setdefault(track, time.monotonic())
                self.frames[track] += 1
        self.ended.add(track)
