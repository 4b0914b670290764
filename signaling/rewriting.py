"""One outgoing RTP stream's numbering, kept continuous whatever feeds it.

A forwarding server sends each subscriber one stream per m-line, with the server
sender's own SSRC, while what feeds it changes: a late joiner starts at the next
keyframe, an m-line is recycled for another participant's track, a publisher
reconnects with a new SSRC and new random sequence numbers and timestamps. The
subscriber must see none of that as loss or as a jump (RFC 3550 section 8.2: a
receiver would otherwise count the gap as lost packets and NACK it, or hold audio
for a timestamp far in the future). ``StreamRewriter`` maps each incoming
``(ssrc, sequence number, timestamp)`` to the outgoing stream's numbers:

* within a segment (one incoming SSRC, fed without a break) by fixed offsets, so
  reordering and retransmissions upstream reach the subscriber as they are;
* at the start of a segment (``restart()``, or a new incoming SSRC) so that the
  sequence number follows the last one sent and the timestamp advances by the
  wall-clock time since then, as mediasoup's ``RtpStreamSend`` and Pion do.

Pure arithmetic, no I/O: ``signaling.forwarding`` owns one per outlet.
"""

from __future__ import annotations

import bisect
import random

__all__ = ["Numbering", "StreamRewriter"]

_SEQ = 1 << 16
_TS = 1 << 32
_TS_HALF = 1 << 31
_CHANGES = 64  # offset changes remembered for late packets (about two seconds of drops)


class Numbering:
    """One wrapping number space (``bits`` wide) renumbered into a continuous one.

    Values come in segments: the first value after :meth:`restart` (or the first ever)
    follows the last value handed out; later ones keep their distance from it, so
    reordered and repeated values keep their own numbers. A value left out on purpose
    (:meth:`drop`) is closed up behind: what follows it moves down by one, so the
    receiver sees no gap. Used for RTP sequence numbers (16 bits), VP8 picture ids
    (15) and TL0PICIDX (8); many packets may share a value (a picture's packets)."""

    def __init__(self, bits: int, start: int | None = None) -> None:
        self._size = 1 << bits
        self._next = random.getrandbits(bits) if start is None else start % self._size
        self._fresh = True
        self._start = 0  # the segment's first value, unwrapped
        self._high = 0  # the highest value seen in the segment, unwrapped
        # (first unwrapped value, offset from it on), oldest first; the last is current.
        self._offsets: list[tuple[int, int]] = []

    @property
    def fresh(self) -> bool:
        """True until the next value begins a segment."""
        return self._fresh

    def restart(self) -> None:
        """The next value begins a new segment."""
        self._fresh = True

    def begin(self, value: int) -> None:
        """Begin a segment at ``value``: it becomes the value after the last handed out."""
        self._fresh = False
        self._start, self._high = value, value - 1  # the value itself is the first newest
        self._offsets = [(value, self._next - value)]

    def _unwrap(self, value: int) -> int:
        half = self._size // 2
        return self._high + ((value - self._high + half) % self._size - half)

    def map(self, value: int) -> int | None:
        """The outgoing number for ``value``; None if it is older than the segment."""
        if self._fresh:
            self.begin(value)
        size, high = self._size, self._high
        extended = self._unwrap(value)
        since, offset = self._offsets[-1]
        if extended < since:  # a late value: the offset in force where it belongs
            if extended < self._start:
                return None
            at = bisect.bisect_right(self._offsets, (extended, size * 4)) - 1
            offset = self._offsets[max(at, 0)][1]
        out = (extended + offset) % size
        if extended > high:
            self._high, self._next = extended, (out + 1) % size
        return out

    def drop(self, value: int) -> None:
        """``value`` is left out on purpose: close up behind it. A value older than
        the newest one handed out can no longer be closed up (its successors went
        out): it stays a gap, as a loss would."""
        if self._fresh:
            return  # nothing sent in this segment: the next value begins it anyway
        extended = self._unwrap(value)
        if extended <= self._high:
            return
        self._high = extended
        offset = self._offsets[-1][1] - 1
        self._offsets.append((extended + 1, offset))
        del self._offsets[:-_CHANGES]


class StreamRewriter:
    """Rewrite incoming packets' numbers into one continuous outgoing stream."""

    def __init__(self, clock_rate: int, *, sequence_number: int | None = None,
                 timestamp: int | None = None) -> None:
        self.clock_rate = clock_rate
        self._seq = Numbering(16, sequence_number)
        self._last_ts = random.getrandbits(32) if timestamp is None else timestamp % _TS
        self._last_time: float | None = None
        self._ssrc: int | None = None
        self._ts_offset = 0
        self._high_ts = 0

    def restart(self) -> None:
        """The next packet starts a new segment (another source, or after a gap
        the server made on purpose, such as waiting for a keyframe)."""
        self._seq.restart()

    def rewrite(self, ssrc: int, sequence_number: int, timestamp: int,
                now: float) -> tuple[int, int] | None:
        """The outgoing ``(sequence number, timestamp)`` for an incoming packet, or
        None if the packet is older than the segment (the subscriber never had the
        packets around it). ``now`` is a monotonic time in seconds."""
        if ssrc != self._ssrc or self._seq.fresh:
            self._begin(ssrc, sequence_number, timestamp, now)
        out_seq = self._seq.map(sequence_number)
        if out_seq is None:
            return None
        out_ts = (timestamp + self._ts_offset) % _TS
        if (out_ts - self._last_ts) % _TS < _TS_HALF:  # not older than the last sent
            self._last_ts, self._last_time = out_ts, now
        return out_seq, out_ts

    def drop(self, ssrc: int, sequence_number: int) -> None:
        """A packet of the current source left out on purpose (an upper temporal layer
        this subscriber does not get): the next ones close up behind it."""
        if ssrc == self._ssrc:
            self._seq.drop(sequence_number)

    def _begin(self, ssrc: int, sequence_number: int, timestamp: int, now: float) -> None:
        if self._last_time is None:
            advance = 0
        else:  # at least one tick: a new segment never repeats the last timestamp
            advance = max(1, round((now - self._last_time) * self.clock_rate))
        out_ts = (self._last_ts + advance) % _TS
        self._ssrc = ssrc
        self._seq.begin(sequence_number)
        self._ts_offset = (out_ts - timestamp) % _TS
