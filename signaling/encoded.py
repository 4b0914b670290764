"""Encoded-frame access to aiortc: the ONE module that touches aiortc internals.

Why this module exists: a forwarding server (SFU) must pass media on without
decoding or re-encoding it, but aiortc 1.16 only has public API for decoded
media on the receiving side. Each ``RTCRtpReceiver`` hands every reassembled
frame to a decoder thread (``rtcrtpreceiver.decoder_worker``) through a private
``queue.Queue``; the sending side, by contrast, already accepts encoded
``av.Packet`` objects and only packetizes them (``RTCRtpSender._next_encoded_frame``
calls the codec's ``pack``; that is how ``MediaPlayer(decode=False)`` works).

So, per receiver and before it starts, ``tap_receiver`` swaps that private queue
for a ``_FrameTap``: the receiver's ``_handle_rtp_packet`` then delivers each
encoded frame straight to our callback on the event loop (no thread hop per
frame), and the decoder thread blocks idle in ``get()`` until the receiver
stops, when it ends the remote track exactly as before. Nothing is patched
globally: other peer connections in the process keep decoding.

Packet-level forwarding (the room's default) goes one step earlier:
``tap_packets`` swaps the receiver's jitter buffer for a ``_PacketTap`` that hands
each decrypted RTP packet on as it arrives (``receive_directly`` takes it straight from
the socket's callback once a connection is up, keeping the receiver's bookkeeping for
it), and ``PacketSender`` sends a rewritten
packet as a sender's own, synchronously: SRTP-protected with the sender's
transport session and written to the nominated ICE pair's datagram transport, kept
in the sender's history (so aiortc answers NACKs from it) and counted for its
sender reports. No frame is reassembled and no task switch happens on the way.

The other internals used here are small: ``_send_rtcp_pli`` (send a Picture
Loss Indication upstream), ``_send_keyframe`` (the sender's hook for PLI/FIR
from its remote peer) and ``_stream_id`` (the ``a=msid`` stream id).
``check_aiortc`` asserts every one of them still exists with the expected shape;
the router calls it once and ``tests/signaling/test_encoded.py`` runs it, so an
aiortc upgrade that breaks this fails loudly instead of silently decoding.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from struct import pack_into
from typing import Any

import av
import pylibsrtp
from aioice import ice
from aiortc import RTCPeerConnection, clock, rtcpeerconnection, rtcrtpreceiver, rtp
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTP_HISTORY_SIZE,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)
from pylibsrtp import _binding as srtp_binding

__all__ = [
    "EncodedFrame",
    "check_aiortc",
    "on_keyframe_request",
    "payload_type",
    "PacketSender",
    "receive_directly",
    "request_keyframe",
    "set_stream_id",
    "tap_feedback",
    "tap_packets",
    "tap_sender_reports",
    "tap_receiver",
]

logger = logging.getLogger(__name__)

_QUEUE = "_RTCRtpReceiver__decoder_queue"
_STARTED = "_RTCRtpReceiver__started"
_JITTER = "_RTCRtpReceiver__jitter_buffer"
# The receiver's private state _PacketTap.receive keeps up, as _handle_rtp_packet does.
_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"
_RTCP_SSRC = "_RTCRtpReceiver__rtcp_ssrc"
_CODECS = "_RTCRtpReceiver__codecs"
_STREAMS = "_RTCRtpReceiver__remote_streams"
_RTX_SSRCS = "_RTCRtpReceiver__rtx_ssrc"
_NACKS = "_RTCRtpReceiver__nack_generator"
# The sender's private names PacketSender uses (checked by check_aiortc), spelled out
# once: it runs for every packet and every subscriber.
_SENDER_MID = "_RTCRtpSender__mid"
_SENDER_STARTED = "_RTCRtpSender__started"
_SENDER_HISTORY = "_RTCRtpSender__rtp_history"
_SENDER_EXTENSIONS = "_RTCRtpSender__rtp_header_extensions_map"
_SENDER_NTP = "_RTCRtpSender__ntp_timestamp"
_SENDER_RTP = "_RTCRtpSender__rtp_timestamp"
_SENDER_OCTETS = "_RTCRtpSender__octet_count"
_SENDER_PACKETS = "_RTCRtpSender__packet_count"
_DTLS_BYTES = "_RTCDtlsTransport__tx_bytes"  # the transport's counters of what it sent
_DTLS_PACKETS = "_RTCDtlsTransport__tx_packets"
_CONNECTED = DtlsState.CONNECTED


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One reassembled, still-encoded frame as the receiver's jitter buffer made it."""

    mime_type: str
    clock_rate: int
    data: bytes
    timestamp: int

    @property
    def keyframe(self) -> bool:
        """True if a decoder can start here.

        VP8 (RFC 6386 section 9.1, RFC 7741 section 4.3): bit 0 of the frame tag
        is 0 for a key frame, which also carries the start code 9d 01 2a. Audio
        (Opus) frames are all independently decodable.
        """
        if self.mime_type.lower() != "video/vp8":
            return True
        return len(self.data) >= 6 and not self.data[0] & 1 and self.data[3:6] == b"\x9d\x01\x2a"

    def packet(self) -> av.Packet[Any]:
        """The frame as an ``av.Packet``, which a sender packetizes without encoding."""
        packet = av.Packet(self.data)
        packet.pts = self.timestamp
        packet.time_base = Fraction(1, self.clock_rate)
        return packet


class _FrameTap:
    """Stands in for the receiver's decoder ``queue.Queue``.

    ``put`` is called on the event loop by ``RTCRtpReceiver._handle_rtp_packet``
    with ``(codec, JitterFrame)``, and with ``None`` when the receiver stops;
    ``get`` is called by the idle decoder thread, which we release on stop so it
    can end the remote track as aiortc expects.
    """

    def __init__(self, on_frame: Callable[[EncodedFrame], None], on_end: Callable[[], None]):
        self._on_frame = on_frame
        self._on_end = on_end
        self._stopped = threading.Event()

    def put(self, item: tuple[Any, Any] | None) -> None:
        if item is None:
            self._stopped.set()
            self._on_end()
            return
        codec, frame = item
        try:
            self._on_frame(
                EncodedFrame(codec.mimeType, codec.clockRate, frame.data, frame.timestamp)
            )
        except Exception:  # never break the receiver's RTP loop
            logger.exception("forwarding an encoded frame failed")

    def get(self) -> None:
        self._stopped.wait()
        return None


def tap_receiver(
    receiver: RTCRtpReceiver,
    on_frame: Callable[[EncodedFrame], None],
    on_end: Callable[[], None],
) -> None:
    """Deliver ``receiver``'s encoded frames to ``on_frame`` instead of decoding them.

    Must run before the receiver starts (``receive()``), i.e. right after the
    ``setRemoteDescription`` that created its transceiver. ``on_end`` runs when
    the receiver stops (close, RTCP BYE, disconnect).
    """
    if getattr(receiver, _STARTED, True) or not isinstance(
        getattr(receiver, _QUEUE, None), queue.Queue
    ):
        raise RuntimeError("cannot tap this RTCRtpReceiver: started already, or aiortc changed")
    setattr(receiver, _QUEUE, _FrameTap(on_frame, on_end))


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a Picture Loss Indication for ``media_ssrc`` to the remote sender.

    RFC 4585 section 6.3.1: PLI asks the encoder for a new decodable picture. A
    forwarder cannot make keyframes itself, so it passes its subscribers' need on.
    """
    await receiver._send_rtcp_pli(media_ssrc)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote peer sends PLI or FIR for ``sender``.

    aiortc answers PLI (RFC 4585 section 6.3.1) and FIR (RFC 5104 section
    4.3.1) by asking its encoder for a keyframe; a sender fed with packets has
    no encoder, so the request must travel to the publisher instead.
    """
    sender._send_keyframe = callback  # type: ignore[method-assign]


class _PacketTap:
    """Stands in for the receiver's jitter buffer: ``_handle_rtp_packet`` calls ``add``
    with each packet once it has fed the receiver's statistics, NACK generator and
    bandwidth estimate and unwrapped RTX; the packet goes on as it arrived, and no
    frame is ever reassembled (nothing reaches the decoder).

    On a connection that ``receive_directly`` serves, ``receive`` does that same
    bookkeeping itself, synchronously, and ``_handle_rtp_packet`` is not called.
    """

    __slots__ = ("_on_packet", "_receiver", "_state")

    def __init__(self, receiver: RTCRtpReceiver, on_packet: Callable[[RtpPacket], None]) -> None:
        self._on_packet = on_packet
        self._receiver = receiver
        self._state: dict[str, Any] = vars(receiver)

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        try:
            self._on_packet(packet)
        except Exception:  # never break the receiver's RTP loop
            logger.exception("forwarding an RTP packet failed")
        return False, None

    def receive(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """What ``RTCRtpReceiver._handle_rtp_packet`` does for a packet up to its
        jitter buffer (``check_aiortc`` holds it to that), then ``add``. Left out, as
        a forwarder needs none of them: the debug log line, the time each source was
        last active (for ``getSynchronizationSources``), and the depacketization and
        decoder-error check that serve a decoder."""
        receiver, state = self._receiver, self._state
        if not receiver._enabled:
            return
        estimator = state[_ESTIMATOR]
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(abs_send_time=packet.extensions.abs_send_time,
                                 arrival_time_ms=arrival_time_ms,
                                 payload_size=len(packet.payload) + packet.padding_size,
                                 ssrc=packet.ssrc)
            rtcp_ssrc = state[_RTCP_SSRC]
            if rtcp_ssrc is not None and remb is not None:
                _run(receiver._send_rtcp(RtcpPsfbPacket(
                    fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb))))
        codecs = state[_CODECS]
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        streams = state[_STREAMS]
        statistics = streams.get(packet.ssrc)
        if statistics is None:
            statistics = streams[packet.ssrc] = rtcrtpreceiver.StreamStatistics(codec.clockRate)
        statistics.add(packet)
        if is_rtx(codec):
            original_ssrc = state[_RTX_SSRCS].get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if (original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int)
                    or apt not in codecs):
                return
            packet = rtp.unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        nacks = state[_NACKS]
        if nacks is not None and nacks.add(packet):
            _run(receiver._send_rtcp_nack(packet.ssrc, sorted(nacks.missing)))
        self.add(packet)


def tap_packets(receiver: RTCRtpReceiver, on_packet: Callable[[RtpPacket], None]) -> None:
    """Deliver each of ``receiver``'s RTP packets to ``on_packet`` as it arrives,
    decrypted and with RTX unwrapped, instead of reassembling frames: forwarding adds
    no jitter-buffer delay. The receiver's reports, NACKs and REMB go on as before."""
    if not hasattr(receiver, _JITTER):
        raise RuntimeError("cannot tap this RTCRtpReceiver's packets: aiortc changed")
    setattr(receiver, _JITTER, _PacketTap(receiver, on_packet))


# -- receiving: each SRTP datagram handled in the socket's own callback ---------------

_DTLS_RX_BYTES = "_RTCDtlsTransport__rx_bytes"  # what the transport counts as received
_DTLS_RX_PACKETS = "_RTCDtlsTransport__rx_packets"
_carrying_on: set[asyncio.Task[None]] = set()


def receive_directly(pc: RTCPeerConnection) -> None:
    """Handle each SRTP and SRTCP datagram ``pc`` receives in the socket's own
    callback, as it arrives, rather than queueing it for aiortc's receive task.

    aiortc's ICE connection puts every datagram in an ``asyncio.Queue`` that the DTLS
    transport's task reads; each RTP packet then costs a task wake-up and a climb back
    up five coroutine frames before it is decrypted. Here RTP and RTCP (first byte 128
    to 191, RFC 7983 section 7) are decrypted and parsed at once and routed as the
    transport's task would route them; a tapped receiver's packet goes straight to its
    tap (``_PacketTap.receive``), any other to the receiver's own handler, and RTCP to
    the transport's. DTLS, and anything that arrives before the SRTP keys exist, still
    goes through the queue. Call it once ``pc`` is connected; calling it again does
    nothing.
    """
    transports = {id(t.receiver.transport): t.receiver.transport for t in pc.getTransceivers()}
    for transport in transports.values():
        _receive_directly(transport)


_NTP_EPOCH_MS = 2_208_988_800_000  # 1900-01-01 to 1970-01-01, in ms


def _receive_directly(transport: RTCDtlsTransport) -> None:
    connection = transport.transport._connection
    queue_datagram = connection.data_received
    if getattr(queue_datagram, "direct", False):
        return
    state = vars(transport)
    router, extensions = transport._rtp_router, transport._rtp_header_extensions_map

    def data_received(data: bytes, component: int) -> None:
        srtp = transport._rx_srtp
        if srtp is None or not data or not 127 < data[0] < 192:
            queue_datagram(data, component)
            return
        state[_DTLS_RX_BYTES] += len(data)
        state[_DTLS_RX_PACKETS] += 1
        # aiortc.clock.current_ms(), without its detour through datetime
        arrival_time_ms = time.time_ns() // 1_000_000 + _NTP_EPOCH_MS
        try:
            if rtp.is_rtcp(data):
                _run(transport._handle_rtcp_data(srtp.unprotect_rtcp(data)))
                return
            packet = RtpPacket.parse(srtp.unprotect(data), extensions)
        except (pylibsrtp.Error, ValueError) as exc:
            logger.debug("an SRTP packet could not be read: %s", exc)
            return
        try:
            receiver = router.route_rtp(packet)
            if receiver is None:
                return
            tap = getattr(receiver, _JITTER, None)
            if isinstance(tap, _PacketTap):
                tap.receive(packet, arrival_time_ms)
            else:
                _run(receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms))
        except Exception:  # logged as the packet's own fault, as aiortc's task would
            logger.exception("handling a received RTP packet failed")

    data_received.direct = True  # type: ignore[attr-defined]
    connection.data_received = data_received  # type: ignore[method-assign]
    # Each socket's protocol first tries every datagram as STUN (and fails, for media):
    # media (first byte 128 to 191) never is, and goes past it.
    for protocol in connection._protocols:
        if isinstance(protocol, ice.StunProtocol):
            _skip_stun(protocol, data_received)


def _skip_stun(protocol: ice.StunProtocol, media: Callable[[bytes, int], None]) -> None:
    if protocol.local_candidate is None:
        return
    other, component = protocol.datagram_received, protocol.local_candidate.component

    def datagram_received(data: bytes | str, addr: tuple[Any, ...]) -> None:
        if isinstance(data, bytes) and data and 127 < data[0] < 192:
            media(data, component)
        else:
            other(data, addr)

    protocol.datagram_received = datagram_received  # type: ignore[method-assign]


def _run(step: Coroutine[Any, Any, None]) -> None:
    """Run the coroutine ``step`` now, within this call. aiortc's packet handlers are
    coroutines that in practice never wait (sending RTCP writes to a socket at once);
    should one wait after all, a task carries it on from where it stopped."""
    try:
        awaited = step.send(None)
    except StopIteration:
        return
    except Exception:  # as aiortc's receive loop would have, but the loop goes on
        logger.exception("handling a received RTP or RTCP packet failed")
        return
    task = asyncio.ensure_future(_carry_on(step, awaited))
    _carrying_on.add(task)
    task.add_done_callback(_carrying_on.discard)


async def _carry_on(step: Coroutine[Any, Any, None], awaited: Any) -> None:
    """Drive ``step`` on after it yielded ``awaited`` (a future, or ``None`` for a
    bare yield), as a task driving it would have: wait, then resume it; the step
    reads the future's outcome itself."""
    while True:
        if awaited is None:
            await asyncio.sleep(0)
        else:
            try:
                await awaited
            except Exception:
                pass  # the step sees it when it resumes
        try:
            awaited = step.send(None)
        except StopIteration:
            return
        except Exception:
            logger.exception("handling a received RTP or RTCP packet failed")
            return


def _read_rtcp(owner: RTCRtpReceiver | RTCRtpSender, read: Callable[[Any], None]) -> None:
    """Have ``read(packet)`` see each RTCP packet routed to ``owner`` before aiortc
    handles it as usual; a failure in ``read`` is logged and never breaks the
    transport's RTCP loop."""
    handle = owner._handle_rtcp_packet

    async def tapped(packet: Any) -> None:
        try:
            read(packet)
        except Exception:
            logger.exception("reading an RTCP packet failed")
        await handle(packet)

    owner._handle_rtcp_packet = tapped  # type: ignore[method-assign]


def tap_sender_reports(receiver: RTCRtpReceiver,
                       on_report: Callable[[int, int, int], None]) -> None:
    """Call ``on_report(ssrc, ntp_timestamp, rtp_timestamp)`` for each RTCP sender
    report (RFC 3550 section 6.4.1) the remote sender sends about ``receiver``'s
    stream: the publisher's mapping from its RTP clock to its wall clock, which a
    forwarder passes on so receivers keep lip sync."""

    def read(packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            on_report(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)

    _read_rtcp(receiver, read)


def tap_feedback(sender: RTCRtpSender, on_loss: Callable[[float], None],
                 on_estimate: Callable[[int, list[int]], None]) -> None:
    """Read what the remote receiver says about ``sender``'s stream: ``on_loss(fraction)``
    for each receiver report block about it (RFC 3550 section 6.4.2: the fraction lost
    since the previous report), and ``on_estimate(bitrate, ssrcs)`` for each REMB that
    names it (the receiver's estimate of what it can take, in bits per second, for the
    streams ``ssrcs``)."""

    def read(packet: Any) -> None:
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    on_loss(report.fraction_lost / 256)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            on_estimate(bitrate, ssrcs)

    _read_rtcp(sender, read)


def payload_type(transceiver: RTCRtpTransceiver) -> int:
    """The payload type the remote side chose for the transceiver's first codec."""
    chosen = transceiver._codecs[0].payloadType if transceiver._codecs else None
    if chosen is None:
        raise RuntimeError("the transceiver has not been negotiated")
    return chosen


_SEND_TIME = 0xFFFFFF  # abs-send-time: 24 bits, 6.18 fixed-point seconds


class _Header:
    """One sender's RTP header, serialized once and patched for each packet.

    What a sender writes is the same for every packet but for the marker and payload
    type, sequence number, timestamp, abs-send-time and audio level, and those sit at
    fixed places: aiortc's serializer writes the header (with the sender's SSRC, mid
    and negotiated header extension ids) once, and each packet's values are written
    over it, as an SFU rewrites headers in place. The places of the two extensions are
    found by serializing twice with different values, so they follow whatever aiortc
    writes. ``level``: a header with the audio level extension (if negotiated)."""

    __slots__ = ("template", "send_time_at", "level_at")

    def __init__(self, extensions: HeaderExtensionsMap, ssrc: int, mid: str, level: bool) -> None:
        def serialize(send_time: int, level_value: int) -> bytes:
            packet = RtpPacket(ssrc=ssrc)
            packet.extensions.mid = mid
            packet.extensions.abs_send_time = send_time
            if level:
                packet.extensions.audio_level = (bool(level_value & 0x80), level_value & 0x7F)
            return packet.serialize(extensions)

        self.template = serialize(0, 0)
        self.send_time_at = _changed(self.template, serialize(_SEND_TIME, 0), 3)
        self.level_at = _changed(self.template, serialize(0, 0xFF), 1) if level else None

    def write(self, into: Any, payload_type: int, marker: int, sequence_number: int,
              timestamp: int, send_time: int, audio_level: tuple[bool, int] | None) -> int:
        """Write a packet's header at the start of the writable buffer ``into``: this
        sender's, with the packet's values. Returns its length."""
        template = self.template
        size = len(template)
        into[0:size] = template
        pack_into("!BHI", into, 1, (marker << 7) | payload_type, sequence_number, timestamp)
        at = self.send_time_at
        if at is not None:
            into[at:at + 3] = send_time.to_bytes(3, "big")
        at = self.level_at
        if at is not None and audio_level is not None:
            pack_into("!B", into, at, (0x80 if audio_level[0] else 0) | (audio_level[1] & 0x7F))
        return size


def _changed(template: bytes, other: bytes, width: int) -> int | None:
    """Where ``width`` bytes of ``other`` differ from ``template`` (None: nowhere)."""
    if len(other) != len(template):
        raise RuntimeError("aiortc's RTP header changed its length with a value: aiortc changed")
    places = [at for at in range(len(template)) if template[at] != other[at]]
    if not places:
        return None
    if places != list(range(places[0], places[0] + width)):
        raise RuntimeError("aiortc's RTP header extension layout is not as expected")
    return places[0]


class _Protector:
    """SRTP protection with one pylibsrtp ``Session``, in the session's own buffer: the
    packet is written there (``buffer``) and protected in place. ``Session.protect``
    wants the packet as one ``bytes`` (a copy of every payload, to join it to its
    header) and makes a C integer per call; this is the same library call on the same
    buffer, with the same checks."""

    __slots__ = ("session", "buffer", "_cdata", "_srtp", "_length")

    def __init__(self, session: pylibsrtp.Session) -> None:
        self.session = session
        self.buffer = session._buffer
        self._cdata = session._cdata
        self._srtp = session._srtp[0]
        self._length = srtp_binding.ffi.new("int *")

    def protect(self, size: int) -> bytes:
        """The protected packet, from the ``size`` bytes written to ``buffer``."""
        length = self._length
        length[0] = size
        status = srtp_binding.lib.srtp_protect(self._srtp, self._cdata, length)
        if status != srtp_binding.lib.srtp_err_status_ok:
            pylibsrtp._srtp_assert(status)  # type: ignore[no-untyped-call]  # raises its Error
        return self.buffer[0:length[0]]  # type: ignore[no-any-return]


_SRTP_BUFFER = 1500  # pylibsrtp's Session buffer (checked by check_aiortc)
_SRTP_ROOM = _SRTP_BUFFER - pylibsrtp.SRTP_MAX_TRAILER_LEN


class PacketSender:
    """Sends rewritten RTP packets as one ``RTCRtpSender``'s own.

    Each ``send`` does what ``RTCRtpSender._run_rtp`` does for a packet, but at once,
    without a task switch: the packet gets the sender's SSRC, mid and abs-send-time;
    it is kept in the sender's history (so a subscriber's NACK is answered by
    ``_retransmit``, with RTX when negotiated), protected with the transport's SRTP
    session, handed to the nominated ICE pair's datagram transport, and counted in
    the sender's reports and the transport's statistics. The sender's own track must
    produce nothing.

    It keeps the sender's private state at hand, since it runs for every packet and
    every subscriber. The mid and the (bundled) transport are read when the sender has
    started, which aiortc does in a task of its own after a negotiation: until then
    ``send`` raises ``ConnectionError``.
    """

    __slots__ = ("sender", "_connection", "_dtls", "_dtls_state", "_extensions", "_headers",
                 "_history", "_mid", "_protector", "_sender_state", "_ssrc")

    def __init__(self, sender: RTCRtpSender) -> None:
        self.sender = sender
        self._history = getattr(sender, _SENDER_HISTORY)
        self._extensions = getattr(sender, _SENDER_EXTENSIONS)
        self._ssrc = sender._ssrc
        self._mid: str | None = None
        self._dtls: Any = None
        self._connection: Any = None
        # The objects' own attribute dictionaries: the counters below are updated for
        # every packet, and a dictionary item is cheaper than getattr and setattr.
        self._sender_state: dict[str, Any] = vars(sender)
        self._dtls_state: dict[str, Any] = {}
        self._headers: tuple[_Header, _Header] | None = None  # without, with audio level
        self._protector: _Protector | None = None

    def _started(self) -> bool:
        if getattr(self.sender, _SENDER_STARTED):
            mid = getattr(self.sender, _SENDER_MID)
            self._headers = (_Header(self._extensions, self._ssrc, mid, False),
                             _Header(self._extensions, self._ssrc, mid, True))
            self._mid = mid
            self._dtls = self.sender.transport
            self._dtls_state = vars(self._dtls)
            self._connection = self._dtls.transport._connection
        return self._mid is not None

    def send(self, packet: RtpPacket, ntp_time: int | None = None,
             capture_ntp: int | None = None) -> None:
        """Send ``packet``, already rewritten to the sender's payload type, sequence
        number and timestamp: ``forward`` with the packet's fields."""
        self.forward(packet.payload_type, packet.marker, packet.sequence_number,
                     packet.timestamp, packet.payload, packet.extensions.audio_level,
                     ntp_time, capture_ntp)

    def forward(self, payload_type: int, marker: int, sequence_number: int, timestamp: int,
                payload: bytes, audio_level: tuple[bool, int] | None = None,
                ntp_time: int | None = None, capture_ntp: int | None = None) -> None:
        """Send one packet with these fields (the sender's payload type, sequence number
        and timestamp) and the sender's own SSRC, mid and abs-send-time. ``ntp_time``:
        now, as ``aiortc.clock.current_ntp_time()``, to share one reading among many
        sends. ``capture_ntp``: the wall-clock time the publisher's own sender reports
        map the packet's timestamp to; the next sender report pairs it with the packet's
        timestamp (without it, with now, as aiortc does for what it sends itself).

        Raises ``ConnectionError`` while the transport is not connected.
        """
        if self._mid is None and not self._started():
            raise ConnectionError("the subscriber's sender has not started")
        dtls = self._dtls
        pair = self._connection._nominated.get(1)
        if dtls._state is not _CONNECTED or pair is None:
            raise ConnectionError("the subscriber's transport is not connected")
        if ntp_time is None:
            ntp_time = clock.current_ntp_time()
        send_time = (ntp_time >> 14) & _SEND_TIME
        self._history[sequence_number % RTP_HISTORY_SIZE] = _Kept(
            payload_type, marker, sequence_number, timestamp, self._ssrc, payload,
            self._mid, send_time, audio_level)
        protector = self._protector
        if protector is None or protector.session is not dtls._tx_srtp:
            protector = self._protector = _Protector(dtls._tx_srtp)
        buffer = protector.buffer
        split = self._headers[audio_level is not None].write(  # type: ignore[index]
            buffer, payload_type, marker, sequence_number, timestamp, send_time, audio_level)
        size = split + len(payload)
        if size > _SRTP_ROOM:
            raise ValueError("packet is too long")  # as pylibsrtp says it
        buffer[split:size] = payload
        data = protector.protect(size)
        # StunProtocol.send_data is exactly this; for a TURN pair the transport is a
        # TurnTransport, whose sendto queues the datagram itself.
        pair.protocol.transport.sendto(data, pair.remote_addr)
        counters = self._dtls_state
        counters[_DTLS_BYTES] += len(data)
        counters[_DTLS_PACKETS] += 1
        state = self._sender_state
        state[_SENDER_NTP] = ntp_time if capture_ntp is None else capture_ntp
        state[_SENDER_RTP] = timestamp
        state[_SENDER_OCTETS] += len(payload)
        state[_SENDER_PACKETS] += 1


class _Kept:
    """A packet ``PacketSender`` sent, as the sender's history keeps it for
    ``RTCRtpSender._retransmit``: the fields ``wrap_rtx`` reads and ``serialize``, for
    the rare packet a subscriber asks for again; cheaper to keep than an ``RtpPacket``
    for every packet sent."""

    __slots__ = ("payload_type", "marker", "sequence_number", "timestamp", "ssrc", "payload",
                 "_mid", "_send_time", "_audio_level")
    csrc: tuple[int, ...] = ()

    def __init__(self, payload_type: int, marker: int, sequence_number: int, timestamp: int,
                 ssrc: int, payload: bytes, mid: str | None, send_time: int,
                 audio_level: tuple[bool, int] | None) -> None:
        self.payload_type, self.marker = payload_type, marker
        self.sequence_number, self.timestamp = sequence_number, timestamp
        self.ssrc, self.payload = ssrc, payload
        self._mid, self._send_time, self._audio_level = mid, send_time, audio_level

    @property
    def extensions(self) -> HeaderExtensions:
        return HeaderExtensions(mid=self._mid, abs_send_time=self._send_time,
                                audio_level=self._audio_level)

    def serialize(self, extensions_map: HeaderExtensionsMap) -> bytes:
        packet = RtpPacket(self.payload_type, self.marker, self.sequence_number,
                           self.timestamp, self.ssrc, self.payload)
        packet.extensions = self.extensions
        return packet.serialize(extensions_map)


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """Set the ``a=msid`` stream id aiortc writes for ``sender`` (RFC 8830)."""
    sender._stream_id = stream_id


@cache
def check_aiortc() -> None:
    """Raise ``RuntimeError`` if aiortc no longer has the internals used here."""
    problems = []

    def source(obj: object) -> str:
        try:
            return inspect.getsource(obj)  # type: ignore[arg-type]
        except (OSError, TypeError):
            return ""

    worker = getattr(rtcrtpreceiver, "decoder_worker", None)
    if worker is None or list(inspect.signature(worker).parameters) != [
        "loop",
        "input_q",
        "output_q",
        "decode_error",
    ]:
        problems.append("rtcrtpreceiver.decoder_worker(loop, input_q, output_q, decode_error)")
    elif "input_q.get()" not in source(worker):
        problems.append("decoder_worker reads its frames with input_q.get()")
    if "self.__decoder_queue," not in source(RTCRtpReceiver.receive):
        problems.append("RTCRtpReceiver.receive passes self.__decoder_queue to the thread")
    if "self.__decoder_queue.put((codec, encoded_frame))" not in source(
        RTCRtpReceiver._handle_rtp_packet
    ):
        problems.append("RTCRtpReceiver._handle_rtp_packet puts (codec, encoded_frame)")
    if "self.__decoder_queue.put(None)" not in source(RTCRtpReceiver):
        problems.append("RTCRtpReceiver stops its decoder with put(None)")
    pli = getattr(RTCRtpReceiver, "_send_rtcp_pli", None)
    if not inspect.iscoroutinefunction(pli) or list(inspect.signature(pli).parameters) != [
        "self",
        "media_ssrc",
    ]:
        problems.append("async RTCRtpReceiver._send_rtcp_pli(self, media_ssrc)")
    if "self._send_keyframe()" not in source(RTCRtpSender._handle_rtcp_packet):
        problems.append("RTCRtpSender._handle_rtcp_packet calls self._send_keyframe() on PLI/FIR")
    if ".pack(data)" not in source(RTCRtpSender._next_encoded_frame):
        problems.append("RTCRtpSender._next_encoded_frame packs non-Frame data")
    if "sender._stream_id" not in source(
        rtcpeerconnection.create_media_description_for_transceiver
    ):
        problems.append("the a=msid line is built from sender._stream_id")
    handle = source(RTCRtpReceiver._handle_rtp_packet)
    if "self.__jitter_buffer.add(packet)" not in handle or handle.index(
            "unwrap_rtx") > handle.index("self.__jitter_buffer.add(packet)"):
        problems.append("RTCRtpReceiver._handle_rtp_packet unwraps RTX, then calls "
                        "self.__jitter_buffer.add(packet)")
    for name in ("if not self._enabled:", "self.__remote_bitrate_estimator.add(",
                 "fci=pack_remb_fci(*remb)", "await self._send_rtcp(rtcp_packet)",
                 "StreamStatistics(codec.clockRate)", "if is_rtx(codec):",
                 "self.__rtx_ssrc.get(packet.ssrc)",
                 "unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)",
                 "self.__nack_generator.add(packet)", "await self._send_rtcp_nack("):
        if name not in handle:  # what _PacketTap.receive does in its place
            problems.append(f"RTCRtpReceiver._handle_rtp_packet uses {name}")
    receive = source(RTCDtlsTransport._recv_next) + source(RTCDtlsTransport._handle_rtp_data)
    for name in ("self.__rx_bytes += len(data)", "self.__rx_packets += 1",
                 "first_byte > 127 and first_byte < 192 and self._rx_srtp",
                 "arrival_time_ms = clock.current_ms()", "if is_rtcp(data):",
                 "self._rx_srtp.unprotect_rtcp(data)", "await self._handle_rtcp_data(data)",
                 "self._rx_srtp.unprotect(data)",
                 "RtpPacket.parse(data, self._rtp_header_extensions_map)",
                 "self._rtp_router.route_rtp(packet)",
                 "await receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms)"):
        if name not in receive:  # what receive_directly does in their place
            problems.append(f"RTCDtlsTransport receives with {name}")
    if "current_datetime() - NTP_EPOCH" not in source(clock.current_ms):
        problems.append("aiortc.clock.current_ms counts milliseconds since 1900")
    if "self._queue.put_nowait((data, component))" not in source(ice.Connection.data_received):
        problems.append("aioice Connection.data_received queues (data, component)")
    if "self.receiver.data_received(data, self.local_candidate.component)" not in source(
            ice.StunProtocol.datagram_received):
        problems.append("aioice StunProtocol.datagram_received hands on what is not STUN")
    run_rtp = source(RTCRtpSender._run_rtp)
    for name in ("self.__rtp_history[", "self.__rtp_header_extensions_map",
                 "self.__ntp_timestamp =", "self.__rtp_timestamp =", "self.__octet_count +=",
                 "self.__packet_count +=", "packet.extensions.mid = self.__mid",
                 "self.transport._send_rtp(packet_bytes)"):
        if name not in run_rtp:
            problems.append(f"RTCRtpSender._run_rtp uses {name}")
    if "await recipient._handle_rtcp_packet(packet)" not in source(
            RTCDtlsTransport._handle_rtcp_data):
        problems.append("RTCDtlsTransport._handle_rtcp_data calls "
                        "recipient._handle_rtcp_packet(packet)")
    send_rtp = source(RTCDtlsTransport._send_rtp)
    for name in ("self._state != State.CONNECTED", "self._tx_srtp.protect(data)",
                 "self.__tx_bytes +=", "self.__tx_packets +="):
        if name not in send_rtp:
            problems.append(f"RTCDtlsTransport._send_rtp uses {name}")
    if "self._connection = gatherer._connection" not in source(RTCIceTransport.__init__):
        problems.append("RTCIceTransport keeps its aioice Connection in _connection")
    if "self._nominated.get(component)" not in source(ice.Connection.sendto):
        problems.append("aioice Connection.sendto sends on self._nominated.get(component)")
    if "self.transport.sendto(data, addr)" not in source(ice.StunProtocol.send_data):
        problems.append("aioice StunProtocol.send_data is self.transport.sendto(data, addr)")
    start = source(RTCRtpSender.send)
    if "self.__mid = parameters.muxId" not in start or "self.__started = True" not in start:
        problems.append("RTCRtpSender.send sets self.__mid and self.__started")
    retransmit = source(RTCRtpSender._retransmit)
    for name in ("self.__rtp_history.get(", "packet = wrap_rtx(", "packet.serialize("):
        if name not in retransmit:
            problems.append(f"RTCRtpSender._retransmit uses {name}")
    if set(re.findall(r"packet\.(\w+)", source(rtp.wrap_rtx))) - set(_Kept.__slots__) - {
            "csrc", "extensions"}:
        problems.append("wrap_rtx reads only what _Kept keeps")
    session = source(pylibsrtp.Session)
    for name in (f'self._cdata = ffi.new("char[]", {_SRTP_BUFFER})',
                 "self._buffer = ffi.buffer(self._cdata)", "self._srtp = ffi.gc(srtp,",
                 "func(self._srtp[0], self._cdata, len_p)"):
        if name not in session:
            problems.append(f"pylibsrtp.Session uses {name}")
    if problems:
        raise RuntimeError("aiortc or pylibsrtp changed; update signaling/encoded.py: "
                           + "; ".join(problems))
