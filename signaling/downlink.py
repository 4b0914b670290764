"""What one subscriber's link carries, and which video streams to stop sending it.

The server sends each subscriber every other participant's audio and video. A link that
cannot carry it all (a rural clinic on a thin line) drops whatever does not fit, audio
included: frozen pictures and broken speech for everyone on the call. ``Downlink``
decides instead which video streams to pause for that one subscriber so that the rest
arrives whole. Audio is never paused; video streams are paused lowest priority first,
and tried again once the link may carry them.

The signals are the subscriber's own RTCP:

* receiver reports (RFC 3550 section 6.4.2): the fraction of packets lost since the
  previous report, per stream. Loss on a full link is what a token bucket, a DSL line
  or a mobile cell all produce, and the only signal every receiver sends.
* REMB (draft-alvestrand-rmcat-remb): the receiver's own estimate of what it can take.
  Chrome and aiortc send it. It starts low and climbs while a call ramps up, so it only
  sizes decisions (how much to pause, whether a paused stream now fits); it never
  pauses anything by itself.

When loss says the link is full, what got through (each stream's rate times one minus
its loss) is the link's capacity for now. Streams are paused until the rest fits in it with
some headroom. A paused stream is tried again (a probe) when the capacity, or a
fresher REMB, says it fits, or once the capacity measured is too old to trust, after a
wait that doubles with each failed try (to a minute): a link's capacity changes, and
only sending shows it. A probe that brings loss back is paused again at once.

Pure arithmetic on the times it is given: ``signaling.forwarding`` feeds it and asks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

__all__ = ["Downlink"]

CONGESTED_LOSS = 0.10
"""A loss fraction that, in two reports in a row about one stream, means the link is full
(one report alone may be a burst: Wi-Fi, a keyframe through a small queue)."""
HEAVY_LOSS = 0.25
"""A loss fraction that, in a single report, means the link is full."""
HEADROOM = 0.85
"""The share of the measured capacity the streams kept may fill."""
SETTLE = 2.5
"""Seconds after a change before the link is judged again: the next receiver report
(every 0.5-1.5 s in aiortc, about 1 s in Chrome) must cover time after the change."""
FIRST_PROBE_WAIT = 8.0
MAX_PROBE_WAIT = 60.0
PROBE_TRIAL = 4.0
"""Seconds a resumed stream must go without loss to stay."""
CAPACITY_MEMORY = 20.0
"""Seconds a measured capacity is trusted to rule out a probe."""
RATE_WINDOW = 2.0
FRESH = 3.0
"""Seconds a loss report or an estimate counts for."""


@dataclass
class _Stream:
    pausable: bool
    paused: bool = False
    rate: float = 0.0  # bits per second when last measured while sending
    sent: deque[tuple[float, int]] = field(default_factory=deque)

    def measure(self, now: float) -> float:
        while self.sent and self.sent[0][0] < now - RATE_WINDOW:
            self.sent.popleft()
        if not self.paused:
            self.rate = 8 * sum(size for _, size in self.sent) / RATE_WINDOW
        return self.rate


class Downlink:
    """One subscriber's downlink: its streams by priority (first added, first kept)."""

    def __init__(self) -> None:
        self._streams: dict[Hashable, _Stream] = {}
        # stream -> its last two reports: (fraction lost, when)
        self._losses: dict[Hashable, deque[tuple[float, float]]] = {}
        self._estimates: dict[tuple[int, ...], tuple[float, float]] = {}  # ssrcs -> (bps, when)
        self._quiet_until = -math.inf
        self._capacity: tuple[float, float] | None = None  # (bits/s, when measured)
        self._probe: Hashable | None = None
        self._probe_since = 0.0
        self._probe_wait = FIRST_PROBE_WAIT
        self._last_change = -math.inf

    # -- what the router tells it ---------------------------------------------------

    def add(self, key: Hashable, *, pausable: bool) -> None:
        """A stream to the subscriber (video streams are ``pausable``)."""
        self._streams.setdefault(key, _Stream(pausable=pausable))

    def remove(self, key: Hashable) -> None:
        self._streams.pop(key, None)
        self._losses.pop(key, None)
        if self._probe == key:
            self._probe = None

    def sent(self, key: Hashable, size: int, now: float) -> None:
        """``size`` bytes of the stream went out at ``now``."""
        stream = self._streams.get(key)
        if stream is not None:
            stream.sent.append((now, size))

    def loss(self, key: Hashable, fraction: float, now: float) -> None:
        """A receiver report: ``fraction`` of the stream's packets lost since the last."""
        self._losses.setdefault(key, deque(maxlen=2)).append((fraction, now))

    def estimate(self, ssrcs: Iterable[int], bitrate: float, now: float) -> None:
        """A REMB: the subscriber can take ``bitrate`` for the streams ``ssrcs``."""
        self._estimates[tuple(sorted(ssrcs))] = (bitrate, now)

    # -- what it decides ------------------------------------------------------------

    def paused(self) -> set[Hashable]:
        return {key for key, stream in self._streams.items() if stream.paused}

    def update(self, now: float) -> bool:
        """Judge the link at ``now``; True if a stream was paused or resumed."""
        if now < self._quiet_until:
            return False
        rates = {key: stream.measure(now) for key, stream in self._streams.items()}
        if self._congested(now):
            return self._relieve(now, rates)
        if self._probe is not None and now - self._probe_since >= PROBE_TRIAL:
            self._probe, self._probe_wait = None, FIRST_PROBE_WAIT  # it fits: keep it
        if self._probe is None:
            return self._try_one(now, rates)
        return False

    def _congested(self, now: float) -> bool:
        for reports in self._losses.values():
            fresh = [fraction for fraction, when in reports if now - when < FRESH]
            if fresh and (fresh[-1] >= HEAVY_LOSS
                          or (len(fresh) == 2 and min(fresh) >= CONGESTED_LOSS)):
                return True
        return False

    def _sending(self, rates: dict[Hashable, float]) -> float:
        return sum(rates[key] for key, s in self._streams.items() if not s.paused)

    def _relieve(self, now: float, rates: dict[Hashable, float]) -> bool:
        # What got through: each stream's rate less what its own report says was
        # lost (one stream's lost keyframe burst must not make the link look tiny).
        fresh = {key: reports[-1][0] for key, reports in self._losses.items()
                 if now - reports[-1][1] < FRESH}
        typical = sum(fresh.values()) / len(fresh)
        delivered = sum(rate * (1 - fresh.get(key, typical))
                        for key, rate in rates.items() if not self._streams[key].paused)
        estimate = self._estimate(now)
        capacity = delivered if estimate is None else min(delivered, estimate)
        self._capacity = (capacity, now)
        if self._probe is not None:  # the probe did not fit: wait longer for the next
            self._probe_wait = min(2 * self._probe_wait, MAX_PROBE_WAIT)
            self._probe = None
        changed = False
        for key in reversed(list(self._streams)):  # lowest priority first
            stream = self._streams[key]
            if self._sending(rates) <= HEADROOM * capacity and changed:
                break
            if stream.pausable and not stream.paused:
                stream.paused = changed = True
        self._changed(now)
        return changed

    def _try_one(self, now: float, rates: dict[Hashable, float]) -> bool:
        waiting = [key for key, s in self._streams.items() if s.paused]
        if not waiting:
            return False
        key = waiting[0]  # highest priority first
        needed = self._sending(rates) + self._streams[key].rate
        estimate = self._estimate(now)
        capacity = self._capacity
        if estimate is not None and needed <= HEADROOM * estimate:
            pass  # the subscriber says it can take it
        elif capacity is not None and now - capacity[1] < CAPACITY_MEMORY:
            if needed > HEADROOM * capacity[0] or now - self._last_change < self._probe_wait:
                return False  # measured too small lately: do not make it lose audio
        elif now - self._last_change < self._probe_wait:
            return False
        self._streams[key].paused = False
        self._streams[key].sent.clear()
        self._probe, self._probe_since = key, now
        self._changed(now)
        return True

    def _estimate(self, now: float) -> float | None:
        fresh = [bps for bps, when in self._estimates.values() if now - when < FRESH]
        return sum(fresh) if fresh else None

    def _changed(self, now: float) -> None:
        self._last_change = now
        self._quiet_until = now + SETTLE
        # Reports and estimates covering time before the change say nothing now.
        self._losses.clear()
        self._estimates.clear()
