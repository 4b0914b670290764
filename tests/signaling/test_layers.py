"""Temporal layers on a thin link: which frames one subscriber gets (signaling.layers),
numbers that close up behind what was left out (signaling.rewriting, signaling.vp8),
and the link stepping a stream down a layer at a time before pausing anything
(signaling.downlink)."""

from __future__ import annotations

from aiortc.codecs.vpx import VpxPayloadDescriptor
from hypothesis import given
from hypothesis import strategies as st

from signaling import vp8
from signaling.downlink import Downlink
from signaling.layers import WINDOW, LayerFilter, LayerMeter
from signaling.rewriting import Numbering, StreamRewriter

# L1T3: the layer of each frame in a group of four.
PATTERN = (0, 2, 1, 2)


def layer_of(frame: int) -> int:
    return PATTERN[frame % 4]


def test_the_filter_steps_down_at_once_and_up_only_at_a_base_frame() -> None:
    kept = LayerFilter()
    sent = [frame for frame in range(8) if kept.admit(layer_of(frame), frame * 3000)]
    assert sent == list(range(8))  # all layers by default
    kept.target = 0
    # Frame 9 (layer 2) is the next frame: it is left out at once.
    assert [f for f in range(9, 17) if kept.admit(layer_of(f), f * 3000)] == [12, 16]
    kept.target = 1
    # Up only from frame 20, the next layer-0 frame: 17-19 stay at layer 0.
    assert [f for f in range(17, 25) if kept.admit(layer_of(f), f * 3000)] == [20, 22, 24]
    kept.target = None
    # Frame 26 is layer 1, which it already gets; layer 2 again from frame 28 on.
    assert [f for f in range(25, 33) if kept.admit(layer_of(f), f * 3000)] == [26, 28, 29,
                                                                                   30, 31, 32]


def test_a_frame_is_kept_or_left_whole() -> None:
    """Every packet of a frame shares its timestamp: a target changed mid-frame waits
    for the next frame."""
    kept = LayerFilter()
    assert kept.admit(2, 1000)
    kept.target = 0
    assert kept.admit(2, 1000)  # the rest of the same frame
    assert not kept.admit(1, 2000)
    assert kept.admit(None, 3000)  # a stream without layers is always sent


def test_the_meter_measures_each_layers_share() -> None:
    meter = LayerMeter()
    for frame in range(60):
        meter.add(layer_of(frame), {0: 4000, 1: 1500, 2: 1000}[layer_of(frame)], frame / 30)
    shares = meter.shares(2.0)
    # Per group of four: 4000 + 1000 + 1500 + 1000 = 7500 bytes.
    assert [round(s, 3) for s in shares] == [round(4000 / 7500, 3), round(5500 / 7500, 3), 1.0]
    assert meter.shares(10.0) == ()  # nothing lately
    assert LayerMeter().shares(0.0) == ()


@given(values=st.lists(st.tuples(st.integers(0, 2**16 - 1), st.booleans()),
                       min_size=1, max_size=300),
       start=st.integers(0, 2**16 - 1), first=st.integers(0, 2**16 - 1))
def test_numbers_close_up_behind_what_is_left_out(
        values: list[tuple[int, bool]], start: int, first: int) -> None:
    numbering = Numbering(16, start)
    kept: list[tuple[int, int]] = []  # (value unwrapped, number sent)
    value, dropped_so_far = first, 0
    for step, dropped in values:
        value += 1 + step % 3  # forward, with gaps (loss upstream)
        if dropped and kept:
            numbering.drop(value % 2**16)
            dropped_so_far += 1
        else:
            out = numbering.map(value % 2**16)
            assert out is not None
            # Upstream's own gaps stay (the subscriber may NACK them); left-out ones go.
            base = kept[0][0] if kept else value
            assert out == (start + value - base - dropped_so_far) % 2**16
            kept.append((value, out))


def test_a_late_packet_keeps_the_number_it_had_before_a_drop() -> None:
    numbering = Numbering(16, 100)
    assert [numbering.map(v) for v in (10, 11)] == [100, 101]
    numbering.drop(13)  # 12 is late, 13 is left out
    assert numbering.map(14) == 103
    assert numbering.map(12) == 102  # its place from before the drop
    assert numbering.map(15) == 104


def test_a_late_copy_of_a_segments_first_value_does_not_rewind_the_numbering() -> None:
    numbering = Numbering(16, 100)
    assert [numbering.map(v) for v in (10, 11, 12)] == [100, 101, 102]
    assert numbering.map(10) == 100  # a retransmission of the segment's first packet
    numbering.restart()
    assert numbering.map(500) == 103  # the next segment follows the last number sent


def test_the_stream_rewriter_skips_left_out_packets() -> None:
    rewriter = StreamRewriter(90000, sequence_number=500, timestamp=0)
    assert rewriter.rewrite(1, 10, 0, 0.0) == (500, 0)
    rewriter.drop(1, 11)
    rewriter.drop(2, 12)  # another source's packet: nothing to do with this segment
    assert rewriter.rewrite(1, 12, 3000, 0.03) == (501, 3000)


def _payload(picture_id: int, base: int, layer: int, *, start: bool = True) -> bytes:
    descriptor = VpxPayloadDescriptor(int(start), 0, picture_id, base, (layer, 0), None)
    return bytes(descriptor) + b"\x01vp8 data"  # P=1: not a key frame


def test_picture_ids_close_up_and_base_indexes_stay() -> None:
    pictures = vp8.PictureRewriter()
    out: list[tuple[int | None, int | None]] = []
    for frame in range(12):
        payload = _payload(20000 + frame, 7 + frame // 4, layer_of(frame))
        descriptor = vp8.read(payload)
        assert descriptor is not None
        if layer_of(frame) == 2:  # a subscriber at 15 fps
            pictures.drop(descriptor)
            continue
        rewritten = pictures.rewrite(payload, descriptor)
        assert rewritten is not None and rewritten.endswith(b"\x01vp8 data")
        again = vp8.read(rewritten)
        assert again is not None and again.temporal_layer == layer_of(frame)
        out.append((again.parsed.picture_id, again.parsed.tl0picidx))
    assert out == [(20000 + n, 7 + n // 2) for n in range(6)]


def test_the_first_source_passes_unchanged() -> None:
    pictures = vp8.PictureRewriter()
    payload = _payload(32767, 255, 0)
    descriptor = vp8.read(payload)
    assert descriptor is not None and descriptor.wide_picture_id
    assert pictures.rewrite(payload, descriptor) is payload
    following = _payload(0, 0, 0)  # both wrap
    assert pictures.rewrite(following, vp8.read(following)) is following  # type: ignore[arg-type]


def test_a_new_source_continues_the_picture_ids() -> None:
    pictures = vp8.PictureRewriter()
    first = _payload(100, 5, 0)
    pictures.rewrite(first, vp8.read(first))  # type: ignore[arg-type]
    pictures.restart()
    other = _payload(9000, 200, 0)
    rewritten = pictures.rewrite(other, vp8.read(other))  # type: ignore[arg-type]
    assert rewritten is not None
    again = vp8.read(rewritten)
    assert again is not None
    assert (again.parsed.picture_id, again.parsed.tl0picidx) == (101, 6)


class LayeredLink:
    """A subscriber of audio and two L1T3 videos whose base layer is 40 % of the stream
    and layers 0-1 60 %, through a link of a given capacity."""

    SHARES = (0.4, 0.6, 1.0)

    def __init__(self) -> None:
        self.downlink = Downlink()
        self.now = 0.0
        self.rates = {"audio": 50_000, "ana": 900_000, "ben": 900_000}
        for key in self.rates:
            self.downlink.add(key, pausable=key != "audio")
            if key != "audio":
                self.downlink.describe(key, self.SHARES)

    def sending(self, key: str) -> float:
        if key == "audio":
            return self.rates[key]
        if key in self.downlink.paused():
            return 0.0
        top = self.downlink.top_layer(key)
        return self.rates[key] * (1.0 if top is None else self.SHARES[top])

    def run(self, seconds: float, capacity: float) -> None:
        for _ in range(int(seconds * 10)):
            self.now += 0.1
            total = sum(self.sending(k) for k in self.rates)
            for key in self.rates:
                self.downlink.sent(key, int(self.sending(key) / 80), self.now)
            if round(self.now * 10) % 10 == 0:
                loss = max(0.0, 1 - capacity / total)
                for key in self.rates:
                    if self.sending(key):
                        self.downlink.loss(key, loss, self.now)
            self.downlink.update(self.now)

    def state(self) -> dict[str, int | str | None]:
        paused = self.downlink.paused()
        return {k: "paused" if k in paused else self.downlink.top_layer(k)
                for k in ("ana", "ben")}


def test_a_thin_link_lowers_frame_rates_before_pausing_anything() -> None:
    link = LayeredLink()
    link.run(6, capacity=1_400_000)  # 1.85 Mbit/s sent: both must come down a step
    assert link.state() == {"ana": 1, "ben": 1}  # 15 fps each
    thin = LayeredLink()
    thin.run(12, capacity=700_000)  # both at 7.5 fps (0.77 Mbit/s) is still too much
    assert thin.state() == {"ana": 0, "ben": "paused"}
    assert thin.downlink.top_layer("audio") is None and "audio" not in thin.downlink.paused()


def test_steps_are_taken_back_when_the_link_grows() -> None:
    link = LayeredLink()
    link.run(6, capacity=1_400_000)
    assert link.state() == {"ana": 1, "ben": 1}
    link.run(240, capacity=5_000_000)
    assert link.state() == {"ana": None, "ben": None}


def test_a_stream_whose_layers_vanish_keeps_a_valid_step() -> None:
    link = LayeredLink()
    link.run(6, capacity=1_400_000)
    link.downlink.describe("ana", ())  # e.g. the publisher switched to a screen share
    assert link.downlink.top_layer("ana") is None and "ana" not in link.downlink.paused()


def test_the_layer_meter_keeps_only_its_window_even_unread() -> None:
    meter = LayerMeter()
    for frame in range(30 * 60):  # a minute at 30 fps, shares never asked for
        meter.add(frame % 3, 1000, frame / 30)
    assert len(meter._packets) <= WINDOW * 30 + 1
    assert meter.shares(60.0)[-1] == 1.0
