"""What one subscriber's link carries, and which video streams to stop sending it.

The server sends each subscriber every other participant's audio and video. A link that
cannot carry it all (a rural clinic on a thin line) drops whatever does not fit, audio
included: frozen pictures and broken speech for everyone on the call. ``Downlink``
decides instead how much of each video stream that one subscriber gets so that what
it gets arrives whole. Audio is never touched. A video stream sent in temporal layers
(``signaling.layers``) steps down a layer at a time: 30, 15, then 7.5 frames a second;
all streams come down a step (lowest priority first) before any comes down another,
and only when every stream is at its base layer is one paused, lowest priority first.
Steps are taken back one at a time once the link may carry them.

The signals are the subscriber's own RTCP:

* receiver reports (RFC 3550 section 6.4.2): the fraction of packets lost since the
  previous report, per stream. Loss on a full link is what a token bucket, a DSL line
  or a mobile cell all produce, and the only signal every receiver sends.
* REMB (draft-alvestrand-rmcat-remb): the receiver's own estimate of what it can take.
  Chrome and aiortc send it. It starts low and climbs while a call ramps up, and lags
  (aiortc's was seen below what arrived without loss), so it only says when a step back
  up fits; it never cuts anything, nor sizes how much is cut.

When loss says the link is full, what got through (each stream's rate times one minus
its loss) is the link's capacity for now. Streams are paused until the rest fits in it with
some headroom. A paused stream is tried again (a probe) when the capacity, or a
fresher REMB, says it fits, or once the capacity measured is too old to trust, after a
wait that doubles with each failed try (to a minute): a link's capacity changes, and
only sending shows it. A probe that brings loss back is taken back down at once, and
only it: what was sent before it fitted.

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
REPORT_LAG = 1.5
"""Seconds after a change before a receiver report can speak of it: a report covers the
time since the receiver's previous one (0.5-1.5 s in aiortc, about 1 s in Chrome), so
one that comes sooner is mostly about the time before the change."""
FIRST_PROBE_WAIT = 8.0
MAX_PROBE_WAIT = 60.0
PROBE_TRIAL = 4.0
"""Seconds a resumed stream must go without loss to stay."""
CAPACITY_MEMORY = 20.0
"""Seconds a measured capacity is trusted to rule out a probe."""
RATE_WINDOW = 2.0
MIN_SPAN = 0.5
"""Seconds a stream's rate is measured over at the least (a stream just begun)."""
FRESH = 3.0
"""Seconds a loss report or an estimate counts for."""


@dataclass
class _Stream:
    pausable: bool
    cut: int = 0  # steps taken down: upper layers left out; all of them: paused
    shares: tuple[float, ...] = ()  # layers 0..k's share of the bytes (signaling.layers)
    full: float = 0.0  # bits per second of the whole stream, when last measured
    sent: deque[tuple[float, int]] = field(default_factory=deque)
    since: float | None = None  # when the bytes in ``sent`` began (None: nothing yet)

    @property
    def levels(self) -> int:
        """The steps the stream has: one per temporal layer (one without layers)."""
        return max(1, len(self.shares))

    @property
    def paused(self) -> bool:
        return self.cut >= self.levels

    def share(self, cut: int) -> float:
        """The part of the whole stream sent with ``cut`` steps taken down."""
        if cut <= 0:
            return 1.0
        if cut >= self.levels:
            return 0.0
        return self.shares[self.levels - 1 - cut]

    def rate_at(self, cut: int) -> float:
        return self.full * self.share(cut)

    def measure(self, now: float) -> float:
        """What the stream sends now, in bits per second (and so what it sends whole),
        over the last ``RATE_WINDOW`` seconds, or over the time it has been sending if
        that is shorter: a stream that began (or resumed) half a second ago and is
        measured over two seconds would seem to send a quarter of its rate, and so
        would the capacity a call's first loss measures, cutting far too much."""
        while self.sent and self.sent[0][0] < now - RATE_WINDOW:
            self.sent.popleft()
        share = self.share(self.cut)
        if share > 0:
            span = RATE_WINDOW if self.since is None else min(
                RATE_WINDOW, max(now - self.since, MIN_SPAN))
            self.full = 8 * sum(size for _, size in self.sent) / span / share
        return self.rate_at(self.cut)

    def restart(self) -> None:
        """The stream sends anew (a step back up): measure it from now on."""
        self.sent.clear()
        self.since = None


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

    def describe(self, key: Hashable, shares: tuple[float, ...]) -> None:
        """The stream's temporal layers as measured at its source: the share of its
        bytes that layers 0..k carry (``LayerMeter.shares``); empty without layers."""
        stream = self._streams.get(key)
        if stream is not None and shares != stream.shares:
            levels = max(1, len(shares))
            stream.cut = levels if stream.paused else min(stream.cut, levels - 1)
            stream.shares = shares

    def sent(self, key: Hashable, size: int, now: float) -> None:
        """``size`` bytes of the stream went out at ``now``."""
        stream = self._streams.get(key)
        if stream is not None:
            if stream.since is None:
                stream.since = now
            stream.sent.append((now, size))

    def loss(self, key: Hashable, fraction: float, now: float) -> None:
        """A receiver report: ``fraction`` of the stream's packets lost since the last."""
        if now < self._last_change + REPORT_LAG:
            return  # about the time before the last change
        self._losses.setdefault(key, deque(maxlen=2)).append((fraction, now))

    def estimate(self, ssrcs: Iterable[int], bitrate: float, now: float) -> None:
        """A REMB: the subscriber can take ``bitrate`` for the streams ``ssrcs``."""
        self._estimates[tuple(sorted(ssrcs))] = (bitrate, now)

    # -- what it decides ------------------------------------------------------------

    def paused(self) -> set[Hashable]:
        return {key for key, stream in self._streams.items() if stream.paused}

    def top_layer(self, key: Hashable) -> int | None:
        """The highest temporal layer the stream's subscriber gets (None: all of them)."""
        stream = self._streams.get(key)
        if stream is None or stream.cut == 0 or stream.paused:
            return None
        return stream.levels - 1 - stream.cut

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
        if self._probe is not None:
            # The step just taken back up did not fit: take it down again and wait
            # longer for the next. What came before it fitted; the loss the step
            # brought says nothing about the link's size (the capacity measured then
            # stays), so nothing else is cut, unless loss goes on after.
            stream = self._streams.get(self._probe)
            self._probe_wait = min(2 * self._probe_wait, MAX_PROBE_WAIT)
            self._probe = None
            if stream is not None and not stream.paused:
                stream.cut += 1
                self._changed(now)
                return True
        # What got through: each stream's rate less what its own report says was
        # lost (one stream's lost keyframe burst must not make the link look tiny). Not
        # the subscriber's REMB: it lags, and was seen below what arrived without loss.
        fresh = {key: reports[-1][0] for key, reports in self._losses.items()
                 if now - reports[-1][1] < FRESH}
        typical = sum(fresh.values()) / len(fresh)
        capacity = sum(rate * (1 - fresh.get(key, typical))
                       for key, rate in rates.items() if not self._streams[key].paused)
        self._capacity = (capacity, now)
        changed = False
        while not changed or self._sending(rates) > HEADROOM * capacity:
            key = self._next_cut()
            if key is None:
                break
            stream = self._streams[key]
            stream.cut += 1
            rates[key] = stream.rate_at(stream.cut)
            changed = True
        self._changed(now)
        return changed

    def _next_cut(self) -> Hashable | None:
        """The stream to take a step down: of those with the most steps left, the
        lowest priority; pausing (a stream's last step) comes after every other."""
        left = [(stream.levels - stream.cut, priority, key)
                for priority, (key, stream) in enumerate(self._streams.items())
                if stream.pausable and not stream.paused]
        return max(left, key=lambda item: item[:2])[2] if left else None

    def _try_one(self, now: float, rates: dict[Hashable, float]) -> bool:
        waiting = [(stream.levels - stream.cut, priority, key)
                   for priority, (key, stream) in enumerate(self._streams.items())
                   if stream.cut > 0]
        if not waiting:
            return False
        key = min(waiting)[2]  # the fewest steps left first, then the highest priority
        stream = self._streams[key]
        needed = self._sending(rates) + stream.rate_at(stream.cut - 1) - rates[key]
        estimate = self._estimate(now)
        capacity = self._capacity
        if estimate is not None and needed <= HEADROOM * estimate:
            pass  # the subscriber says it can take it
        elif capacity is not None and now - capacity[1] < CAPACITY_MEMORY:
            if needed > HEADROOM * capacity[0] or now - self._last_change < self._probe_wait:
                return False  # measured too small lately: do not make it lose audio
        elif now - self._last_change < self._probe_wait:
            return False
        stream.cut -= 1
        stream.restart()
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
