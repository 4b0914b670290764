"""Guard the aiortc internals that ``signaling.encoded`` relies on.

If one of these fails after an aiortc upgrade, the forwarding server would
silently fall back to decoding (or stop forwarding): fix ``signaling/encoded.py``.
"""

from __future__ import annotations

import asyncio
import queue
import random
from collections.abc import AsyncIterator
from fractions import Fraction
from typing import Any

import aiortc
import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, wrap_rtx

from signaling import encoded
from tests.signaling.conftest import wait_for

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)


@pytest.fixture
async def transceiver() -> AsyncIterator[RTCRtpTransceiver]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    yield pc.addTransceiver("video", direction="sendrecv")
    await pc.close()


def test_encoded_aiortc_version_is_the_one_checked() -> None:
    assert aiortc.__version__.startswith("1.16."), "re-check signaling/encoded.py, then bump"


def test_encoded_check_aiortc_accepts_the_installed_aiortc() -> None:
    encoded.check_aiortc.__wrapped__()


def test_encoded_check_aiortc_notices_a_changed_decoder_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def decoder_worker(loop: object, input_q: object, output_q: object) -> None: ...

    monkeypatch.setattr(aiortc.rtcrtpreceiver, "decoder_worker", decoder_worker)
    with pytest.raises(RuntimeError, match="decoder_worker"):
        encoded.check_aiortc.__wrapped__()


async def test_encoded_receiver_and_sender_have_the_patched_attributes(
    transceiver: RTCRtpTransceiver,
) -> None:
    receiver, sender = transceiver.receiver, transceiver.sender
    assert isinstance(receiver._RTCRtpReceiver__decoder_queue, queue.Queue)  # type: ignore[attr-defined]
    assert receiver._RTCRtpReceiver__started is False  # type: ignore[attr-defined]
    assert asyncio.iscoroutinefunction(receiver._send_rtcp_pli)
    assert callable(sender._send_keyframe)
    assert isinstance(sender._stream_id, str)


async def test_encoded_tap_delivers_frames_and_end(transceiver: RTCRtpTransceiver) -> None:
    frames: list[encoded.EncodedFrame] = []
    ended: list[bool] = []
    encoded.tap_receiver(transceiver.receiver, frames.append, lambda: ended.append(True))
    tap = transceiver.receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]

    tap.put((VP8, JitterFrame(data=b"\x00\x01\x02", timestamp=3000)))
    tap.put(None)

    assert frames == [encoded.EncodedFrame("video/VP8", 90000, b"\x00\x01\x02", 3000)]
    assert ended == [True]
    assert tap.get() is None  # the idle decoder thread is released
    with pytest.raises(RuntimeError):
        encoded.tap_receiver(transceiver.receiver, frames.append, lambda: None)


async def test_encoded_hooks_replace_keyframe_and_stream_id(transceiver: RTCRtpTransceiver) -> None:
    requests: list[bool] = []
    encoded.on_keyframe_request(transceiver.sender, lambda: requests.append(True))
    encoded.set_stream_id(transceiver.sender, "stream-1")

    transceiver.sender._send_keyframe()

    assert requests == [True]
    assert transceiver.sender._stream_id == "stream-1"


def test_encoded_frame_knows_vp8_keyframes_and_makes_packets() -> None:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "yuv420p"
    codec.time_base = Fraction(1, 30)
    image = np.zeros((48, 64, 3), dtype=np.uint8)
    packets = []
    for i in range(3):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += codec.encode(frame)
    packets += codec.encode(None)
    kinds = [encoded.EncodedFrame("video/VP8", 90000, bytes(p), 0).keyframe for p in packets]
    assert kinds[0] is True and not any(kinds[1:])

    packet = encoded.EncodedFrame("audio/opus", 48000, b"\xfc\xff", 960).packet()
    assert bytes(packet) == b"\xfc\xff" and packet.pts == 960
    assert packet.time_base == Fraction(1, 48000)


def _extensions_map(*uris: str) -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=at, uri=uri) for at, uri in enumerate(uris, 1)]))
    return extensions


MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


@pytest.mark.parametrize("uris", [(MID, SEND_TIME, LEVEL), (MID, SEND_TIME), (MID,), (),
                                  (LEVEL, SEND_TIME, MID)])
def test_encoded_header_written_in_place_is_what_aiortc_serializes(
        uris: tuple[str, ...]) -> None:
    extensions = _extensions_map(*uris)
    rng = random.Random(7)
    headers = {level: encoded._Header(extensions, 0xCAFEBABE, "12", level)
               for level in (False, True)}
    for _ in range(300):
        packet = RtpPacket(payload_type=rng.choice([96, 111, 127]), marker=rng.randint(0, 1),
                           sequence_number=rng.randrange(1 << 16),
                           timestamp=rng.randrange(1 << 32), ssrc=0xCAFEBABE,
                           payload=rng.randbytes(rng.randrange(1, 1200)))
        level = rng.choice([None, (False, 0), (True, 127), (rng.random() < 0.5, 42)])
        send_time = rng.randrange(1 << 24)
        packet.extensions.mid, packet.extensions.abs_send_time = "12", send_time
        packet.extensions.audio_level = level
        head = bytearray(rng.randbytes(64))  # whatever was in the buffer before
        size = headers[level is not None].write(head, packet.payload_type, packet.marker,
                                                packet.sequence_number, packet.timestamp,
                                                send_time, level)
        assert bytes(head[:size]) + packet.payload == packet.serialize(extensions)
        # What the sender's history keeps serializes the same, and wraps for RTX.
        kept = encoded._Kept(packet.payload_type, packet.marker, packet.sequence_number,
                             packet.timestamp, packet.ssrc, packet.payload, "12", send_time,
                             level)
        assert kept.serialize(extensions) == packet.serialize(extensions)
        rtx = wrap_rtx(kept, payload_type=97, sequence_number=5, ssrc=1)  # type: ignore[arg-type]
        assert rtx.serialize(extensions) == wrap_rtx(packet, 97, 5, 1).serialize(extensions)


@pytest.mark.parametrize("kind", ["audio", "video"])
async def test_encoded_packet_sender_protects_what_aiortc_would_send(kind: str) -> None:
    """PacketSender writes the header and SRTP-protects in place: what it puts on the
    wire decrypts, on the receiving peer, to exactly what aiortc serializes."""
    config = RTCConfiguration(iceServers=[])
    sending, receiving = RTCPeerConnection(config), RTCPeerConnection(config)
    transceiver = sending.addTransceiver(kind, direction="sendonly")  # no track
    arrived: list[RtpPacket] = []
    try:
        await sending.setLocalDescription(await sending.createOffer())
        await receiving.setRemoteDescription(sending.localDescription)
        [incoming] = receiving.getTransceivers()
        encoded.tap_packets(incoming.receiver, arrived.append)
        await receiving.setLocalDescription(await receiving.createAnswer())
        await sending.setRemoteDescription(receiving.localDescription)
        wire = encoded.PacketSender(transceiver.sender)
        sent: list[RtpPacket] = []
        for _ in range(200):
            if transceiver.sender.transport.state == "connected":
                try:
                    wire.send(RtpPacket())  # the sender may not have started yet
                    break
                except ConnectionError:
                    pass
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the sender never started")
        rng = random.Random(3)
        for n in range(100):
            packet = RtpPacket(payload_type=encoded.payload_type(transceiver), marker=n % 2,
                               sequence_number=n + 1, timestamp=n * 960,
                               # a VP8 payload descriptor (S=1) and then anything
                               payload=b"\x10" + rng.randbytes(rng.choice([1, 80, 1100, 1300])))
            if kind == "audio" and n % 4:
                packet.extensions.audio_level = (n % 3 == 0, n % 128)
            wire.send(packet, ntp_time=(n + 1) << 24)
            sent.append(packet)
        await wait_for(lambda: len(arrived) >= len(sent))
    finally:
        await sending.close()
        await receiving.close()

    by_number = {p.sequence_number: p for p in arrived}
    for packet in sent:
        got = by_number[packet.sequence_number]
        assert (got.marker, got.timestamp, got.payload) == (
            packet.marker, packet.timestamp, packet.payload)
        assert got.extensions.audio_level == packet.extensions.audio_level
        assert got.extensions.mid == transceiver.mid
        # aiortc negotiates abs-send-time for video only.
        assert got.extensions.abs_send_time == (
            ((packet.sequence_number << 24) >> 14) & 0xFFFFFF if kind == "video" else None)


def test_encoded_check_aiortc_notices_a_changed_srtp_session(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoded, "_SRTP_BUFFER", 2048)
    with pytest.raises(RuntimeError, match="pylibsrtp.Session"):
        encoded.check_aiortc.__wrapped__()


async def test_encoded_received_directly_each_packet_reaches_its_tap_with_aiortc_bookkeeping(
        caplog: pytest.LogCaptureFixture) -> None:
    """On a connection received directly, a tapped receiver's packets go from the socket
    callback to the tap, in order, without aiortc's own handler; the receiver still
    counts them for its reports and NACKs a gap; an untapped receiver on the same
    connection still decodes (its packets take aiortc's handler)."""
    config = RTCConfiguration(iceServers=[])
    sending, receiving = RTCPeerConnection(config), RTCPeerConnection(config)
    video = sending.addTransceiver("video", direction="sendonly")  # fed by PacketSender
    sending.addTrack(aiortc.AudioStreamTrack())  # aiortc's own: silence, encoded
    arrived: list[int] = []
    handled: list[RtpPacket] = []
    feedback: list[Any] = []
    try:
        await sending.setLocalDescription(await sending.createOffer())
        await receiving.setRemoteDescription(sending.localDescription)
        incoming, audio = receiving.getTransceivers()
        encoded.tap_packets(incoming.receiver, lambda p: arrived.append(p.sequence_number))
        await receiving.setLocalDescription(await receiving.createAnswer())
        await sending.setRemoteDescription(receiving.localDescription)
        await wait_for(lambda: receiving.connectionState == "connected")
        payload_type = encoded.payload_type(video)
        encoded.receive_directly(receiving)
        encoded.receive_directly(receiving)  # a second call changes nothing
        handle = incoming.receiver._handle_rtp_packet

        async def counted(packet: RtpPacket, arrival_time_ms: int) -> None:
            handled.append(packet)
            await handle(packet, arrival_time_ms)

        incoming.receiver._handle_rtp_packet = counted  # type: ignore[method-assign]
        read = video.sender._handle_rtcp_packet

        async def heard(packet: Any) -> None:
            feedback.append(packet)
            await read(packet)

        video.sender._handle_rtcp_packet = heard  # type: ignore[method-assign]
        router = incoming.receiver.transport._rtp_router
        route = router.route_rtp

        def failing(packet: RtpPacket) -> Any:
            if packet.sequence_number == 30 and packet.payload_type == payload_type:
                raise RuntimeError("a fault while routing")  # once: RTX comes as 97
            return route(packet)

        router.route_rtp = failing  # type: ignore[method-assign]
        wire = encoded.PacketSender(video.sender)
        await wait_for(lambda: video.sender._RTCRtpSender__started)  # type: ignore[attr-defined]
        numbers = [n for n in range(1, 121) if n != 60]  # 60 is lost on the way
        for n in numbers:
            wire.forward(payload_type, 1, n, n * 3000, b"\x10" + bytes(300))
            await asyncio.sleep(0.002)
        await wait_for(lambda: len(arrived) >= len(numbers))
        await wait_for(lambda: any(getattr(p, "fmt", None) == 1 for p in feedback))
        frame = await asyncio.wait_for(audio.receiver.track.recv(), 5)
        streams = dict(incoming.receiver._RTCRtpReceiver__remote_streams)  # type: ignore[attr-defined]
    finally:
        await sending.close()
        await receiving.close()

    # 30 failed on its way in (logged, and the next went on), was NACKed, and came back as
    # RTX, unwrapped; 60 was never sent, so the publisher has nothing to send again.
    assert [n for n in arrived if n != 30] == [n for n in numbers if n != 30]
    assert arrived.index(30) > arrived.index(31)
    assert "handling a received RTP packet failed" in caplog.text
    assert handled == []
    # The receiver's statistics per stream (its getStats shows one: ids collide).
    media, rtx = streams[video.sender._ssrc], streams[video.sender._rtx_ssrc]
    assert (media.packets_received, media.packets_lost) == (len(numbers) - 1, 2)
    assert rtx.packets_received == 1  # 30 again, counted on the RTX stream
    nacks = [p for p in feedback if getattr(p, "fmt", None) == 1]  # RTPFB NACK
    assert {n for nack in nacks for n in nack.lost} == {30, 60}
    assert isinstance(frame, av.AudioFrame)  # the untapped receiver decoded Opus
    assert frame.sample_rate == 48000


async def test_encoded_run_carries_on_a_handler_that_waits(
        caplog: pytest.LogCaptureFixture) -> None:
    """A packet handler runs within the call; one that waits after all is carried on by
    a task, and sees the outcome of what it waited for; a failure is logged."""
    steps: list[str] = []
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def quick() -> None:
        steps.append("quick")

    async def waits() -> None:
        steps.append("waiting")
        steps.append(await future)
        await asyncio.sleep(0)  # a bare yield
        steps.append("done")

    async def fails() -> None:
        try:
            await future
        except LookupError:
            steps.append("saw the error")
            raise

    encoded._run(quick())
    assert steps == ["quick"]
    encoded._run(waits())
    assert steps == ["quick", "waiting"]
    future.set_result("resumed")
    await wait_for(lambda: steps[-1] == "done")
    assert steps == ["quick", "waiting", "resumed", "done"]

    future = asyncio.get_running_loop().create_future()
    encoded._run(fails())
    future.set_exception(LookupError("gone"))
    await wait_for(lambda: "handling a received RTP" in caplog.text)
    assert steps[-1] == "saw the error"


def test_encoded_check_aiortc_notices_a_changed_receive_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def _handle_rtp_data(self: object, data: bytes, arrival_time_ms: int) -> None: ...

    monkeypatch.setattr(aiortc.rtcdtlstransport.RTCDtlsTransport, "_handle_rtp_data",
                        _handle_rtp_data)
    with pytest.raises(RuntimeError, match="RTCDtlsTransport receives with"):
        encoded.check_aiortc.__wrapped__()
