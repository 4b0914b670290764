"""One outgoing stream's numbering (signaling.rewriting) and what the forwarder reads
from VP8 packets (signaling.vp8)."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import numpy as np
from aiortc.codecs.vpx import Vp8Encoder
from av import VideoFrame
from hypothesis import given
from hypothesis import strategies as st

from signaling import vp8
from signaling.rewriting import StreamRewriter


def test_a_segment_keeps_its_spacing_and_wraps() -> None:
    rewriter = StreamRewriter(90000, sequence_number=65534, timestamp=2**32 - 3000)
    out = [rewriter.rewrite(7, (500 + i) % 65536, 1000 + 3000 * i, now=i / 30)
           for i in range(4)]
    assert out == [(65534, 2**32 - 3000), (65535, 0), (0, 3000), (1, 6000)]


def test_reordered_and_repeated_packets_keep_their_own_numbers() -> None:
    rewriter = StreamRewriter(48000, sequence_number=100, timestamp=0)
    assert rewriter.rewrite(1, 10, 960, 0.0) == (100, 0)
    assert rewriter.rewrite(1, 12, 2880, 0.04) == (102, 1920)
    assert rewriter.rewrite(1, 11, 1920, 0.05) == (101, 960)  # late: fills the gap
    assert rewriter.rewrite(1, 11, 1920, 0.06) == (101, 960)  # a retransmission
    # The next new packet follows the highest, not the late one.
    assert rewriter.rewrite(1, 13, 3840, 0.06) == (103, 2880)


def test_a_new_source_continues_the_numbers_and_the_clock() -> None:
    rewriter = StreamRewriter(90000, sequence_number=1000, timestamp=50000)
    assert rewriter.rewrite(1, 40000, 123456, 10.0) == (1000, 50000)
    assert rewriter.rewrite(1, 40001, 126456, 10.033) == (1001, 53000)
    # Another publisher's stream (new SSRC, unrelated numbers) 2 s later.
    seq, ts = rewriter.rewrite(2, 7, 999_999_999, 12.033) or (0, 0)
    assert seq == 1002
    assert ts == 53000 + 2 * 90000
    assert rewriter.rewrite(2, 8, 999_999_999 + 3000, 12.066) == (1003, ts + 3000)


def test_restart_starts_a_segment_even_from_the_same_source() -> None:
    rewriter = StreamRewriter(90000, sequence_number=0, timestamp=0)
    rewriter.rewrite(1, 100, 0, 0.0)
    rewriter.restart()  # e.g. the subscriber waited for a keyframe: 50 packets skipped
    assert rewriter.rewrite(1, 150, 30000, 0.5) == (1, 45000)
    # A packet from before the restart is older than the segment: not sent.
    assert rewriter.rewrite(1, 149, 27000, 0.5) is None
    assert rewriter.rewrite(1, 151, 30000, 0.5) == (2, 45000)


def test_a_new_segment_never_repeats_the_last_timestamp() -> None:
    rewriter = StreamRewriter(48000, sequence_number=0, timestamp=500)
    rewriter.rewrite(1, 0, 0, 5.0)
    assert rewriter.rewrite(2, 0, 0, 5.0) == (1, 501)


@given(
    segments=st.lists(
        st.tuples(st.integers(1, 2**32 - 1),  # ssrc
                  st.integers(0, 65535),  # first sequence number
                  st.integers(0, 2**32 - 1),  # first timestamp
                  st.integers(1, 400),  # packets
                  st.floats(0.0, 30.0)),  # pause before the segment, seconds
        min_size=1, max_size=6),
    first_seq=st.integers(0, 65535),
    first_ts=st.integers(0, 2**32 - 1),
)
def test_the_subscriber_sees_one_stream_in_order(
        segments: list[tuple[int, int, int, int, float]], first_seq: int,
        first_ts: int) -> None:
    """However the sources change, the output is consecutive sequence numbers and
    timestamps that move forward by what the sources' did, or by the pause."""
    rewriter = StreamRewriter(90000, sequence_number=first_seq, timestamp=first_ts)
    now, out = 0.0, []
    for ssrc, seq, ts, count, pause in segments:
        rewriter.restart()
        now += pause
        for i in range(count):
            result = rewriter.rewrite(ssrc, (seq + i) % 65536, (ts + 3000 * i) % 2**32, now)
            assert result is not None
            out.append(result)
            now += 1 / 30
    assert out[0] == (first_seq, first_ts)
    assert all((b[0] - a[0]) % 65536 == 1 for a, b in pairwise(out))
    assert all(0 < (b[1] - a[1]) % 2**32 < 2**31 for a, b in pairwise(out))


def _vp8_payloads(*, keyframe: bool) -> list[bytes]:
    encoder = Vp8Encoder()
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    payloads: list[bytes] = []
    for index in range(2):
        image[:, index * 10] = 255
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = index * 3000, Fraction(1, 90000)
        payloads, _ = encoder.encode(frame, force_keyframe=keyframe and index == 0)
        if keyframe:
            return payloads
    return payloads


def test_vp8_starts_keyframe_reads_the_payload_descriptor() -> None:
    key = _vp8_payloads(keyframe=True)
    delta = _vp8_payloads(keyframe=False)
    assert vp8.starts_keyframe(key[0])
    assert not any(vp8.starts_keyframe(p) for p in key[1:])
    assert not vp8.starts_keyframe(delta[0])
    assert not vp8.starts_keyframe(b"")
    assert not vp8.starts_keyframe(b"\x90")  # extended bits announced, then cut off
