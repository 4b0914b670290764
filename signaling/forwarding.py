"""The media-forwarding core of the live room: a selective forwarding unit (SFU).

Each participant has one ``RTCPeerConnection`` to the server. Every track a
participant publishes becomes a ``_Source``; for every other participant the
router gives that source its own ``sendonly`` transceiver whose track is an
``_Outlet``. Media is never decoded nor re-encoded (one codec per kind: VP8
video, Opus audio). Two ways to forward, chosen per router (``forwarding``):

* ``"packets"`` (the default): each RTP packet is taken from the publisher's
  receiver as it arrives (``signaling.encoded.tap_packets``), renumbered for each
  outgoing stream (``signaling.rewriting.StreamRewriter``: SSRC, sequence number,
  timestamp) and sent at once on the subscriber's transport. Nothing is held: no
  jitter buffer, no reassembly, no packetizing again.
* ``"frames"``: the receivers' reassembled frames are handed to the senders as
  ``av.Packet`` objects, which aiortc packetizes again per subscriber. It adds a
  frame interval (video) and the jitter buffer's prefetch (audio) of delay; it is
  kept as a fallback (``CASEBRIDGE_FORWARD=frames``) and as the benchmark's baseline.

Negotiation (RFC 3264 offer/answer over one BUNDLE transport, RFC 8843):

* the client makes the first offer (``accept_offer``); the server then offers
  the others' streams with its own offers (``on_offer``), answered through
  ``accept_answer``. Either side may offer again later.
* glare: the server is the impolite peer. A client offer that arrives while a
  server offer is outstanding is refused with ``Glare`` and changes nothing;
  the client rolls back, answers the server's offer and offers again.
* per participant one renegotiation is in flight at a time; changes that arrive
  meanwhile set a dirty flag and produce exactly one more offer after the answer.
* there is no removeTrack: a departed source's m-line goes ``inactive``, and an
  inactive m-line is recycled for the next source of its kind, so the SDP stays
  bounded however often people join and leave.
* server re-offers keep the payload types and header-extension ids negotiated
  first (``signaling.sdp.NegotiatedIds``), which Chromium requires.

Keyframes: a forwarder cannot make them. A new subscriber's video is held until
a keyframe, which the router asks the publisher for with PLI (RFC 4585 section
6.3.1); PLI/FIR from subscribers (RFC 5104 section 4.3.1) are passed on too, at
most one per publisher every ``KEYFRAME_REQUEST_INTERVAL`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.rtp import RtpPacket

from signaling import encoded, vp8
from signaling.downlink import Downlink
from signaling.errors import Glare, InvalidState, UnknownParticipant
from signaling.layers import LayerFilter, LayerMeter
from signaling.media_errors import map_aiortc_errors
from signaling.rewriting import StreamRewriter
from signaling.sdp import NegotiatedIds, media_ssrcs, restrict_codecs, stream_ids

__all__ = ["FORWARDING", "KEYFRAME_REQUEST_INTERVAL", "MediaRouter", "OnOffer", "ntp_now"]

logger = logging.getLogger(__name__)

OnOffer = Callable[[str, str, dict[str, str]], Awaitable[None]]
"""``on_offer(participant_id, offer_sdp, streams)``; see ``MediaRouter``."""
OnPaused = Callable[[str, dict[str, str]], None]
"""``on_paused(participant_id, streams)``: the streams (stream id -> reason) now paused
for the participant; an empty dict when none is. See ``MediaRouter``."""

PROMPT_KEYFRAME_INTERVAL = 0.25
"""Seconds since the last PLI after which a new subscription's first request is sent."""
KEYFRAME_REQUEST_INTERVAL = 1.0
"""Seconds between two PLIs to one publisher for every other request (a subscriber's
PLI or FIR, a subscription still waiting, a slow subscriber that dropped its backlog):
those in between are coalesced. A keyframe costs several delta frames and goes to
every subscriber, so one struggling receiver must not set everyone's rate."""
CLOSE_TIMEOUT = 5.0
"""Seconds a participant's leaving waits for its peer connection to close."""

FORWARDING = ("packets", "frames")
"""The ways a router can forward media; see the module's docstring."""

_CODECS = {"audio": "opus", "video": "VP8"}
_CLOCK_RATES = {"audio": 48000, "video": 90000}
# Bytes each packet costs on the wire besides its payload: IPv4 20 + UDP 8 + RTP 12,
# header extensions about 12, the SRTP tag 10.
_PACKET_OVERHEAD = 62
ADAPT_INTERVAL = 0.5
"""Seconds between two looks at each subscriber's link (packet forwarding)."""
POOR_CONNECTION = "poor-connection"
"""Why a stream is paused for a subscriber: their link cannot carry it."""
# Frames an outlet may queue before its sender pulls them (about two seconds).
_MAX_QUEUED = {"audio": 100, "video": 60}


def _preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """The one forwardable codec of ``kind``, plus RTX (RFC 4588) for video."""
    wanted = {f"{kind}/{_CODECS[kind]}".lower(), "video/rtx"}
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in codecs if c.mimeType.lower() in wanted]


_NTP_EPOCH_NS = 2_208_988_800 * 1_000_000_000  # 1900-01-01 to 1970-01-01, in ns


def ntp_now() -> int:
    """Now as a 64-bit NTP timestamp (RFC 5905: 32.32 fixed-point seconds since 1900), as
    ``aiortc.clock.current_ntp_time`` gives it, without its detour through ``datetime``:
    it is read once for every forwarded packet."""
    return ((time.time_ns() + _NTP_EPOCH_NS) << 32) // 1_000_000_000


class _Source:
    """One track a participant publishes, fanned out to other participants' outlets."""

    def __init__(
        self,
        *,
        publisher: str,
        transceiver: RTCRtpTransceiver,
        stream_id: str,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        on_end: Callable[[_Source], None],
        on_request: Callable[[], None] = lambda: None,
        on_forward: Callable[[int], None] = lambda size: None,
    ) -> None:
        self.publisher = publisher
        self.kind = transceiver.kind
        self.transceiver = transceiver
        self.stream_id = stream_id
        self.ssrc: int | None = None
        self.live = False
        self.ended = False
        self.outlets: set[_Outlet] = set()
        self._spawn = spawn
        self._on_end = on_end
        self._on_request = on_request
        self._on_forward = on_forward  # bytes handed to outlets, for the metrics
        self._loop = asyncio.get_running_loop()
        self._last_request = -KEYFRAME_REQUEST_INTERVAL
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        # The publisher's last sender report per SSRC: (NTP time, RTP timestamp).
        self.reports: dict[int, tuple[int, int]] = {}
        self.clock_rate = _CLOCK_RATES[self.kind]
        self.layers = LayerMeter()  # what each VP8 temporal layer weighs

    def report(self, ssrc: int, ntp: int, rtp: int) -> None:
        """The publisher's sender report: its RTP clock read against its wall clock."""
        self.reports[ssrc] = (ntp, rtp)

    def capture_ntp(self, packet: RtpPacket) -> int | None:
        """The publisher's wall-clock time for ``packet``'s timestamp, by its last
        sender report (None before the first)."""
        report = self.reports.get(packet.ssrc)
        if report is None:
            return None
        ntp, rtp = report
        ticks = (packet.timestamp - rtp + (1 << 31)) % (1 << 32) - (1 << 31)
        return ntp + (ticks << 32) // self.clock_rate

    def forward(self, frame: encoded.EncodedFrame) -> None:
        """Hand one encoded frame to every outlet (runs on the event loop)."""
        if self.outlets:
            packet, keyframe = frame.packet(), frame.keyframe
            for outlet in self.outlets:
                outlet.push(packet, keyframe)
            self._on_forward(len(frame.data) * len(self.outlets))

    def forward_packet(self, packet: RtpPacket) -> None:
        """Send one RTP packet on through every outlet (runs on the event loop)."""
        if self.outlets:
            now = self._loop.time()
            descriptor = vp8.read(packet.payload) if self.kind == "video" else None
            if descriptor is not None:
                self.layers.add(descriptor.temporal_layer, len(packet.payload), now)
            ntp, capture = ntp_now(), self.capture_ntp(packet)
            sent = 0
            for outlet in list(self.outlets):
                sent += outlet.send(packet, descriptor, now, ntp, capture)
            self._on_forward(len(packet.payload) * sent)

    def request_keyframe(self, *, prompt: bool = False) -> None:
        """Ask the publisher for a keyframe: a new subscription's request (``prompt``)
        a quarter of a second after the last PLI at the latest, any other one a second
        after it; requests in between are coalesced into the one scheduled."""
        if self.kind != "video" or self.ended:
            return
        due = self._last_request + (PROMPT_KEYFRAME_INTERVAL if prompt
                                    else KEYFRAME_REQUEST_INTERVAL)
        if self._timer is not None:
            if self._timer_due <= due:
                return  # the PLI already scheduled comes soon enough
            self._timer.cancel()
            self._timer = None
        wait = due - self._loop.time()
        if wait > 0:
            self._timer = self._loop.call_later(wait, self._send_pli)
            self._timer_due = due
        else:
            self._send_pli()

    def _send_pli(self) -> None:
        self._timer = None
        self._last_request = self._loop.time()
        if self.ssrc is not None:
            self._on_request()
            self._spawn(self._pli(self.ssrc))

    async def _pli(self, ssrc: int) -> None:
        try:
            await encoded.request_keyframe(self.transceiver.receiver, ssrc)
        except Exception:  # a lost PLI is retried by the subscriber's next one
            logger.warning("PLI to participant %r failed", self.publisher, exc_info=True)

    def end(self) -> None:
        """The publisher's track is gone: stop feeding outlets, for good."""
        if not self.ended:
            self.ended, self.live = True, False
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for outlet in list(self.outlets):
                outlet.detach()
            self._on_end(self)


class _Outlet(MediaStreamTrack):
    """The track of one server ``sendonly`` transceiver: a source's packets, queued.

    It lives as long as its transceiver and is re-pointed to a new source when
    the m-line is recycled; its sender never sees it end, so it never stops.
    """

    def __init__(self, kind: str, transceiver: RTCRtpTransceiver, *, packets: bool,
                 downlink: Downlink | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.transceiver = transceiver
        self.source: _Source | None = None
        self.active = False
        self._track_id = str(uuid.uuid4())
        self._queue: deque[av.Packet[Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._need_keyframe = kind == "video"
        # Packet forwarding: the outgoing stream's numbering, continuous across
        # sources, and the payload type the subscriber chose (set on activate).
        self._packets = packets
        self._rewriter = StreamRewriter(_CLOCK_RATES[kind])
        self._pictures = vp8.PictureRewriter()
        self._layers = LayerFilter()
        self._payload_type = 0
        self._wire: encoded.PacketSender | None = None
        # The subscriber's link (packet forwarding with adaptation): what this outlet
        # sends is counted there, and video is paused when it does not fit.
        self._downlink = downlink
        self.paused = False

    @property
    def id(self) -> str:
        """The msid track id, renewed each time the outlet gets a new source."""
        return self._track_id

    def attach(self, source: _Source) -> None:
        """Carry ``source`` from the next negotiation on (``activate``)."""
        self.detach()
        self.source = source
        source.outlets.add(self)
        self._track_id = str(uuid.uuid4())
        encoded.set_stream_id(self.transceiver.sender, source.stream_id)
        self.transceiver.sender.replaceTrack(self)  # refreshes the msid track id
        self.transceiver.direction = "sendonly"

    def detach(self) -> None:
        """Stop carrying the current source; the m-line goes inactive next offer."""
        if self.source is not None:
            self.source.outlets.discard(self)
        self.source, self.active = None, False
        self._queue.clear()

    def activate(self) -> None:
        """The subscriber accepted the m-line: forward from the next keyframe on."""
        self.active = True
        self._queue.clear()
        self._need_keyframe = self.kind == "video"
        if self._packets:
            self._payload_type = encoded.payload_type(self.transceiver)
            self._wire = encoded.PacketSender(self.transceiver.sender)
            self._restart()
        self.request_keyframe(prompt=True)

    def _restart(self) -> None:
        """The next packet sent starts a segment of the outgoing stream."""
        self._rewriter.restart()
        self._pictures.restart()
        self._layers.reset()

    def set_top_layer(self, layer: int | None) -> None:
        """Send temporal layers up to ``layer`` only (None: all of them)."""
        self._layers.target = layer

    def request_keyframe(self, *, prompt: bool = False) -> None:
        """PLI/FIR from the subscriber (or a new subscription, ``prompt``): upstream."""
        if self.source is not None and self.active and not self.paused:
            self.source.request_keyframe(prompt=prompt)

    def pause(self, paused: bool) -> None:
        """Stop sending video to this subscriber (its link cannot carry it), or start
        again, from a keyframe."""
        if paused == self.paused:
            return
        self.paused = paused
        if not paused:
            self._need_keyframe = self.kind == "video"
            self.request_keyframe(prompt=True)

    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        """Queue one packet for the sender, holding video until a keyframe."""
        if not self.active:
            return
        if self._need_keyframe and not keyframe:
            # Still waiting: the last PLI or the keyframe itself may have been
            # lost (e.g. sent before the publisher's transport was up), so ask
            # again; the source coalesces this to one PLI per interval.
            self.request_keyframe()
            return
        self._need_keyframe = False
        if len(self._queue) >= _MAX_QUEUED[self.kind]:
            # The sender is not keeping up: drop the backlog and restart cleanly.
            self._queue.clear()
            self._need_keyframe = self.kind == "video"
            self.request_keyframe()
            if self._need_keyframe:
                return
        self._queue.append(packet)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def send(self, packet: RtpPacket, descriptor: vp8.Descriptor | None, now: float, ntp: int,
             capture: int | None) -> bool:
        """Send one of the source's RTP packets on, renumbered as this stream's own,
        holding video until a keyframe starts and leaving out the temporal layers this
        subscriber does not get (``descriptor``: the VP8 packet's, None for audio). True
        if it was sent. ``capture`` is the packet's time by the publisher's sender
        reports: this stream's reports carry the publisher's mapping, moved by the
        timestamp rewrite, so receivers line audio and video up as the publisher
        captured them."""
        if not self.active or self._wire is None or self.paused:
            return False
        if self._need_keyframe:
            keyframe = descriptor.keyframe if descriptor is not None else self.kind != "video"
            if not keyframe:
                self.request_keyframe()  # see push(): coalesced by the source
                return False
            self._need_keyframe = False
            self._restart()
        if descriptor is not None and not self._layers.admit(descriptor.temporal_layer,
                                                             packet.timestamp):
            self._rewriter.drop(packet.ssrc, packet.sequence_number)
            self._pictures.drop(descriptor)
            return False
        numbers = self._rewriter.rewrite(packet.ssrc, packet.sequence_number,
                                         packet.timestamp, now)
        payload = (packet.payload if descriptor is None
                   else self._pictures.rewrite(packet.payload, descriptor))
        if numbers is None or payload is None:
            return False
        try:
            self._wire.forward(self._payload_type, packet.marker, numbers[0], numbers[1],
                               payload, packet.extensions.audio_level, ntp, capture)
        except ConnectionError:
            # The subscriber's transport is not up (yet, or any more): video
            # starts again from a keyframe once it is.
            self._need_keyframe = self.kind == "video"
            return False
        if self._downlink is not None:
            self._downlink.sent(self, len(payload) + _PACKET_OVERHEAD, now)
        return True

    async def recv(self) -> av.Packet[Any]:
        """The next packet, for the transceiver's sender to packetize. With packet
        forwarding the sender gets none: ``send`` bypasses it, and this waits until
        the sender stops."""
        if self._packets:
            await asyncio.get_running_loop().create_future()
        while not self._queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()


class _Peer:
    """One participant's peer connection and what the router knows about it."""

    def __init__(self, participant_id: str, pc: RTCPeerConnection) -> None:
        self.id = participant_id
        self.pc = pc
        self.lock = asyncio.Lock()
        self.ids = NegotiatedIds()
        self.sources: dict[str, _Source] = {}  # by mid
        self.outlets: list[_Outlet] = []
        self.ready = False  # the client's first offer has been answered
        self.dirty = False  # the server must offer again
        self.connected = False  # ICE and DTLS are up: server offers may go out
        self.driver: asyncio.Task[None] | None = None
        self.downlink = Downlink()
        self.told_paused: dict[str, str] = {}  # the paused streams the client was told

    def streams(self) -> dict[str, str]:
        return {o.source.stream_id: o.source.publisher for o in self.outlets if o.source}

    def paused_streams(self) -> dict[str, str]:
        """Stream id -> why, for each stream paused for this participant now."""
        return {o.source.stream_id: POOR_CONNECTION for o in self.outlets
                if o.paused and o.source is not None}


class MediaRouter:
    """Forward every participant's audio and video to every other participant.

    ``on_offer(participant_id, offer_sdp, streams)`` is awaited whenever the
    server offers to a participant; ``streams`` maps each ``a=msid`` stream id
    that participant will receive to the participant it belongs to (the
    CONTRACT ``tracks`` message, to send before the offer). It may be called as
    soon as ``accept_offer`` or ``accept_answer`` returns, so deliver messages
    to one participant in call order (a per-connection send queue). It is never
    called while the participant's own negotiation step is running.

    Errors are ``signaling.errors.SignalingError`` subclasses (aiortc's are
    translated by ``signaling.media_errors.map_aiortc_errors``).
    """

    def __init__(self, *, ice_servers: Sequence[RTCIceServer] = (), on_offer: OnOffer,
                 on_keyframe_request: Callable[[], None] = lambda: None,
                 on_forward: Callable[[int], None] = lambda size: None,
                 forwarding: str = "packets", adapt: bool = True,
                 on_paused: OnPaused | None = None) -> None:
        encoded.check_aiortc()
        if forwarding not in FORWARDING:
            raise ValueError(f"forwarding must be one of {FORWARDING}, not {forwarding!r}")
        self.forwarding = forwarding
        # Each subscriber's link decides which video it gets (packet forwarding only).
        self.adapt = adapt and forwarding == "packets"
        self._on_paused = on_paused
        self._adapter: asyncio.Task[None] | None = None
        self._on_keyframe_request = on_keyframe_request
        self._on_forward = on_forward
        self._ice_servers = list(ice_servers)
        self._on_offer = on_offer
        self._peers: dict[str, _Peer] = {}
        self._sources: list[_Source] = []
        self._stream_ids: dict[tuple[str, str], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing: set[asyncio.Task[None]] = set()  # connections being closed
        self._closed = False
        self.keyframe_requests = 0  # PLIs sent to publishers, for the metrics

    def forwarded_streams(self) -> int:
        """Tracks being forwarded now: outlets carrying a live source to a subscriber."""
        return sum(1 for peer in self._peers.values() for o in peer.outlets
                   if o.active and o.source is not None and o.source.live)

    def _count_request(self) -> None:
        self.keyframe_requests += 1
        self._on_keyframe_request()

    async def add(self, participant_id: str) -> None:
        """Create the participant's peer connection; its client offers next."""
        if self._closed:
            raise InvalidState("the media router is closed")
        if participant_id in self._peers:
            raise InvalidState(f"participant {participant_id!r} is already connected")
        # Always pass the configured list: without iceServers aiortc falls back
        # to a public STUN server, and every gathering waits 5 s offline.
        # max-bundle: every m-line the server adds rides the one transport the
        # client's first offer set up. With aiortc's default ("balanced") the second
        # and later video m-lines for a client that publishes no video (audio only)
        # are tied to a video transport that bundling then discards: measured on a
        # thin link, those streams never started.
        config = RTCConfiguration(iceServers=list(self._ice_servers),
                                  bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        peer = _Peer(participant_id, RTCPeerConnection(config))
        self._peers[participant_id] = peer
        if self.adapt and self._adapter is None:
            self._adapter = self._spawn(self._adapt())

        @peer.pc.on("connectionstatechange")
        def _connected() -> None:
            if peer.pc.connectionState == "connected":
                peer.connected = True
                if self.forwarding == "packets":
                    encoded.receive_directly(peer.pc)
                self._kick(peer)  # offers held back until now go out

    async def accept_offer(self, participant_id: str, sdp: str) -> str:
        """Apply a client offer and return the server's answer SDP.

        Raises ``Glare`` while the server's own offer awaits its answer.
        """
        peer = self._peer(participant_id)
        async with peer.lock:
            pc = peer.pc
            if pc.signalingState == "have-local-offer":
                raise Glare("the server's offer is outstanding: roll back and answer it")
            with map_aiortc_errors():
                offer = restrict_codecs(sdp, _CODECS)
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            # No await before this: the new receivers must be tapped before
            # aiortc starts them (and their decoder thread) in its __connect task.
            self._adopt_sources(peer, offer)
            with map_aiortc_errors():
                await pc.setLocalDescription(await pc.createAnswer())
            peer.ids.learn(offer)
            answer: str = pc.localDescription.sdp
            self._refresh_sources(peer)
            if not peer.ready:
                peer.ready = peer.dirty = True
        self._kick(peer)
        return answer

    async def accept_answer(self, participant_id: str, sdp: str) -> None:
        """Apply the client's answer to the server's last offer."""
        peer = self._peer(participant_id)
        async with peer.lock:
            if peer.pc.signalingState != "have-local-offer":
                raise InvalidState("no server offer is waiting for an answer")
            with map_aiortc_errors():
                await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            for outlet in peer.outlets:
                sending = outlet.transceiver.currentDirection == "sendonly"
                if outlet.source is not None and not outlet.active and sending:
                    outlet.activate()
            self._refresh_sources(peer)
        self._kick(peer)

    def streams_for(self, participant_id: str) -> dict[str, str]:
        """Stream id -> publisher of every stream the participant receives."""
        return self._peer(participant_id).streams()

    async def remove(self, participant_id: str) -> None:
        """Close the participant's connection and stop forwarding its media."""
        peer = self._peers.pop(participant_id, None)
        if peer is None:
            raise UnknownParticipant(f"no participant {participant_id!r}")
        if peer.driver is not None:
            peer.driver.cancel()
        for outlet in peer.outlets:
            outlet.detach()
        for source in peer.sources.values():
            source.end()
        self._stream_ids = {k: v for k, v in self._stream_ids.items() if k[0] != participant_id}
        await self._close_connection(peer.pc)

    async def _close_connection(self, pc: RTCPeerConnection) -> None:
        """Close ``pc`` to the end, whatever happens to the caller.

        aiortc's ``close`` cut short by a cancellation (a socket handler's task
        cancelled while its participant leaves, at a server's shutdown) leaves the
        connection half closed, and every later ``close`` waits for the first one
        forever. So the close runs in a task of its own, shielded; the caller waits for
        it at most ``CLOSE_TIMEOUT`` seconds, and the router's own ``close`` for the
        ones still running."""
        task = asyncio.ensure_future(pc.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT)
        except TimeoutError:
            logger.warning("closing a peer connection took over %s s; it goes on alone",
                           CLOSE_TIMEOUT)

    async def close(self) -> None:
        """Close every peer connection and wait for the router's own tasks."""
        self._closed = True
        for participant_id in list(self._peers):
            await self.remove(participant_id)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._closing:  # closes cut short in their callers, still running
            await asyncio.wait(list(self._closing), timeout=CLOSE_TIMEOUT)

    # -- sources ---------------------------------------------------------------

    def _adopt_sources(self, peer: _Peer, offer: str) -> None:
        """Tap every newly offered receiving transceiver as a source."""
        outlets = {o.transceiver for o in peer.outlets}
        streams = stream_ids(offer)
        for transceiver in peer.pc.getTransceivers():
            mid = transceiver.mid
            if transceiver in outlets or mid is None:
                continue
            if mid not in peer.sources and transceiver.receiver.track is not None:
                key = (peer.id, streams.get(mid, ""))
                source = _Source(
                    publisher=peer.id,
                    transceiver=transceiver,
                    stream_id=self._stream_ids.setdefault(key, uuid.uuid4().hex),
                    spawn=self._spawn,
                    on_end=self._source_ended,
                    on_request=self._count_request,
                    on_forward=self._on_forward,
                )
                encoded.tap_receiver(transceiver.receiver, source.forward, source.end)
                if self.forwarding == "packets":
                    encoded.tap_packets(transceiver.receiver, source.forward_packet)
                    encoded.tap_sender_reports(transceiver.receiver, source.report)
                peer.sources[mid] = source
                self._sources.append(source)
            transceiver.setCodecPreferences(_preferences(transceiver.kind))
        for mid, ssrc in media_ssrcs(offer).items():
            if mid in peer.sources:
                peer.sources[mid].ssrc = ssrc

    def _refresh_sources(self, peer: _Peer) -> None:
        """After a negotiation: a source is live while its m-line sends to us."""
        changed = False
        for source in peer.sources.values():
            live = not source.ended and source.transceiver.currentDirection in (
                "recvonly",
                "sendrecv",
            )
            if live != source.live:
                source.live, changed = live, True
                for outlet in list(source.outlets):
                    outlet.detach()
        if changed:
            self._touch_others(peer.id)

    def _source_ended(self, source: _Source) -> None:
        if source in self._sources:
            self._sources.remove(source)
        self._touch_others(source.publisher)

    def _touch_others(self, participant_id: str) -> None:
        for peer in self._peers.values():
            if peer.id != participant_id and peer.ready:
                peer.dirty = True
                self._kick(peer)

    # -- renegotiation ---------------------------------------------------------

    def _kick(self, peer: _Peer) -> None:
        """Start the participant's renegotiation driver unless it runs already."""
        if self._closed or not peer.dirty or self._peers.get(peer.id) is not peer:
            return
        if peer.driver is None or peer.driver.done():
            peer.driver = self._spawn(self._drive(peer))

    async def _drive(self, peer: _Peer) -> None:
        """Offer while there are changes and the connection is stable."""
        try:
            while (offer := await self._make_offer(peer)) is not None:
                await self._on_offer(peer.id, *offer)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("renegotiation with participant %r failed", peer.id)

    async def _make_offer(self, peer: _Peer) -> tuple[str, dict[str, str]] | None:
        async with peer.lock:
            pc = peer.pc
            if not peer.dirty or pc.signalingState != "stable" or self._closed:
                return None
            if not peer.connected:
                # Measured with Chromium: a server re-offer applied while the
                # first ICE/DTLS handshake is still running leaves aiortc's RTP
                # router without the client's uplink (no inbound media at all).
                # Hold re-offers until connected; the state change kicks us.
                return None
            peer.dirty = False
            self._assign_outlets(peer)
            self._tell_paused(peer)
            if all(o.transceiver.direction == o.transceiver.currentDirection for o in peer.outlets):
                return None  # nothing the client has not seen yet
            with map_aiortc_errors():
                offer = await pc.createOffer()
                pinned = peer.ids.pin(offer.sdp)
                await pc.setLocalDescription(RTCSessionDescription(sdp=pinned, type="offer"))
            return pc.localDescription.sdp, peer.streams()

    def _assign_outlets(self, peer: _Peer) -> None:
        """Match the participant's outlets to the live sources of everyone else."""
        wanted = [s for s in self._sources if s.live and s.publisher != peer.id]
        for outlet in peer.outlets:
            if outlet.source is not None and outlet.source not in wanted:
                outlet.detach()
            if outlet.source is None:
                outlet.transceiver.direction = "inactive"
        carried = {o.source for o in peer.outlets}
        for source in wanted:
            if source not in carried:
                self._free_outlet(peer, source.kind).attach(source)

    def _free_outlet(self, peer: _Peer, kind: str) -> _Outlet:
        """An m-line the client has already seen go inactive, or a new one."""
        for outlet in peer.outlets:
            if (
                outlet.kind == kind
                and outlet.source is None
                and outlet.transceiver.currentDirection == "inactive"
            ):
                return outlet
        # addTransceiver, not addTrack: addTrack would reuse the transceiver the
        # participant publishes on.
        transceiver = peer.pc.addTransceiver(kind, direction="sendonly")
        transceiver.setCodecPreferences(_preferences(kind))
        outlet = _Outlet(kind, transceiver, packets=self.forwarding == "packets",
                         downlink=peer.downlink if self.adapt else None)
        encoded.on_keyframe_request(transceiver.sender, outlet.request_keyframe)
        if self.adapt:
            downlink, loop = peer.downlink, asyncio.get_running_loop()
            downlink.add(outlet, pausable=kind == "video")
            encoded.tap_feedback(
                transceiver.sender,
                on_loss=lambda fraction: downlink.loss(outlet, fraction, loop.time()),
                on_estimate=lambda bitrate, ssrcs: downlink.estimate(ssrcs, bitrate,
                                                                     loop.time()))
        peer.outlets.append(outlet)
        return outlet

    # -- each subscriber's link ------------------------------------------------

    async def _adapt(self) -> None:
        """Every ``ADAPT_INTERVAL``: let each subscriber's link pause or resume video."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(ADAPT_INTERVAL)
            now = loop.time()
            shares: dict[_Source, tuple[float, ...]] = {}  # measured once per source
            for peer in list(self._peers.values()):
                try:
                    for outlet in peer.outlets:
                        source = outlet.source
                        if source is not None and outlet.kind == "video":
                            if source not in shares:
                                shares[source] = source.layers.shares(now)
                            peer.downlink.describe(outlet, shares[source])
                    if peer.downlink.update(now):
                        paused = peer.downlink.paused()
                        for outlet in peer.outlets:
                            outlet.set_top_layer(peer.downlink.top_layer(outlet))
                            outlet.pause(outlet in paused)
                        self._tell_paused(peer)
                except Exception:  # one participant's trouble must not stop the others'
                    logger.exception("adapting to participant %r's link failed", peer.id)

    def _tell_paused(self, peer: _Peer) -> None:
        paused = peer.paused_streams()
        if paused != peer.told_paused and self._on_paused is not None:
            peer.told_paused = paused
            self._on_paused(peer.id, paused)

    # -- plumbing --------------------------------------------------------------

    def _peer(self, participant_id: str) -> _Peer:
        peer = self._peers.get(participant_id)
        if peer is None:
            raise UnknownParticipant(f"no participant {participant_id!r}")
        return peer

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
