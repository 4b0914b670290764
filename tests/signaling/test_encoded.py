"""Guard the aiortc internals that ``signaling.encoded`` relies on.

If one of these fails after an aiortc upgrade, the forwarding server would
silently fall back to decoding (or stop forwarding): fix ``signaling/encoded.py``.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator
from fractions import Fraction

import aiortc
import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from signaling import encoded

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
