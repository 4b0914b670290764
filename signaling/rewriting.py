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

import random

__all__ = ["StreamRewriter"]

_SEQ = 1 << 16
_TS = 1 << 32


class StreamRewriter:
    """Rewrite incoming packets' numbers into one continuous outgoing stream."""

    def __init__(self, clock_rate: int, *, sequence_number: int | None = None,
                 timestamp: int | None = None) -> None:
        self.clock_rate = clock_rate
        self._next_seq = (random.getrandbits(16) if sequence_number is None
                          else sequence_number % _SEQ)
        self._last_ts = random.getrandbits(32) if timestamp is None else timestamp % _TS
        self._last_time: float | None = None
        self._ssrc: int | None = None
        self._fresh = True
        self._start = 0  # the segment's first incoming sequence number, unwrapped
        self._high = 0  # the highest incoming sequence number seen, unwrapped
        self._seq_offset = 0
        self._ts_offset = 0

    def restart(self) -> None:
        """The next packet starts a new segment (another source, or after a gap
        the server made on purpose, such as waiting for a keyframe)."""
        self._fresh = True

    def rewrite(self, ssrc: int, sequence_number: int, timestamp: int,
                now: float) -> tuple[int, int] | None:
        """The outgoing ``(sequence number, timestamp)`` for an incoming packet, or
        None if the packet is older than the segment (the subscriber never had the
        packets around it). ``now`` is a monotonic time in seconds."""
        if self._fresh or ssrc != self._ssrc:
            self._begin(ssrc, sequence_number, timestamp, now)
            extended = self._high
        else:
            # Unwrap against the highest seen: within half the number space either way.
            extended = self._high + ((sequence_number - self._high + _SEQ // 2) % _SEQ
                                     - _SEQ // 2)
            if extended < self._start:
                return None
        out_seq = (extended + self._seq_offset) % _SEQ
        out_ts = (timestamp + self._ts_offset) % _TS
        if extended >= self._high:
            self._high = extended
            self._next_seq = (out_seq + 1) % _SEQ
            self._last_ts, self._last_time = out_ts, now
        return out_seq, out_ts

    def _begin(self, ssrc: int, sequence_number: int, timestamp: int, now: float) -> None:
        if self._last_time is None:
            advance = 0
        else:  # at least one tick: a new segment never repeats the last timestamp
            advance = max(1, round((now - self._last_time) * self.clock_rate))
        out_ts = (self._last_ts + advance) % _TS
        self._ssrc, self._fresh = ssrc, False
        self._start = self._high = sequence_number
        self._seq_offset = (self._next_seq - sequence_number) % _SEQ
        self._ts_offset = (out_ts - timestamp) % _TS
