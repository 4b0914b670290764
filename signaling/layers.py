"""VP8 temporal layers: which ones one subscriber gets, and what each costs.

A publisher asked for ``L1T3`` (Chrome's ``scalabilityMode``) sends one stream in
three temporal layers: layer 0 every fourth frame (7.5 fps of 30), layer 1 between
them (15 fps with layer 0), layer 2 the rest. A frame refers only to frames of its own
layer or below, so a forwarder may leave the upper layers out for one subscriber and
what remains still decodes: a lighter stream, not a frozen one.

``LayerFilter`` decides, frame by frame, what one outgoing stream carries: a lower
target applies from the next frame, a higher one only from a layer-0 frame (the
frames of upper layers in between may refer to upper-layer frames the subscriber
never had). ``LayerMeter`` measures what each layer of a source weighs, so the
subscriber's link (``signaling.downlink``) knows what a step down saves.

Pure, on the values it is given: ``signaling.forwarding`` reads the layer of each
packet (``signaling.vp8``) and asks.
"""

from __future__ import annotations

from collections import deque

__all__ = ["LayerFilter", "LayerMeter"]

WINDOW = 2.0
"""Seconds of a source's packets its layer shares are measured over."""


class LayerFilter:
    """The temporal layers one subscriber gets of one stream."""

    def __init__(self) -> None:
        self.target: int | None = None  # the highest layer wanted; None: all of them
        self._current: int | None = None
        self._frame: int | None = None  # the RTP timestamp of the frame being decided

    def admit(self, layer: int | None, timestamp: int) -> bool:
        """Whether a packet of ``layer`` (None: the stream has no layers) in the frame
        with RTP ``timestamp`` goes to the subscriber. The packets of one frame share its
        timestamp and its layer, so a frame is sent whole or not at all."""
        if timestamp != self._frame:
            self._frame = timestamp
            self._step(layer)
        return layer is None or self._current is None or layer <= self._current

    def _step(self, layer: int | None) -> None:
        if self.target == self._current:
            return
        going_down = self.target is not None and (self._current is None
                                                  or self.target < self._current)
        if going_down or layer in (0, None):
            self._current = self.target

    def reset(self) -> None:
        """The stream starts again at a keyframe (layer 0): the target applies at once."""
        self._current, self._frame = self.target, None


class LayerMeter:
    """What each temporal layer of one source weighs, over the last ``WINDOW`` seconds."""

    def __init__(self) -> None:
        self._packets: deque[tuple[float, int, int]] = deque()  # (when, layer, bytes)
        self._layers = 0

    def add(self, layer: int | None, size: int, now: float) -> None:
        if layer is None:
            return
        self._packets.append((now, layer, size))
        if layer >= self._layers:
            self._layers = layer + 1
        self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop what no share is measured over any more (older than ``WINDOW``)."""
        packets, old = self._packets, now - WINDOW
        while packets and packets[0][0] < old:
            packets.popleft()

    def shares(self, now: float) -> tuple[float, ...]:
        """The share of the stream's bytes that layers 0..k carry, for each k (the last
        is 1.0); empty for a stream without temporal layers."""
        self._forget(now)
        if not self._packets:
            return ()
        sizes = [0] * self._layers
        for _, layer, size in self._packets:
            sizes[layer] += size
        total = sum(sizes)
        running, shares = 0, []
        for size in sizes:
            running += size
            shares.append(running / total)
        return tuple(shares)
