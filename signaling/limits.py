"""Per-connection limits, pure: the caller passes the time in.

``RateLimiter`` is a token bucket: it holds at most ``burst`` tokens, refills
at ``rate`` tokens per second, and each message spends one. Bursts (a join
followed by a dozen trickled ICE candidates) pass; a flood does not.

Pass a monotonic clock (``time.monotonic()``), not wall time: a wall clock
stepping back would freeze the refill, stepping forward would hand out tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_BURST", "DEFAULT_RATE", "RateLimiter"]

DEFAULT_RATE = 10.0  # messages per second, sustained
DEFAULT_BURST = 40  # messages at once: join, offer and a burst of candidates


@dataclass
class RateLimiter:
    """A token bucket for one connection."""

    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST
    _tokens: float = field(init=False)
    _last: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._tokens = float(self.burst)

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens at monotonic time ``now``; ``False`` if too few."""
        self._refill(now)
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def retry_after(self, now: float, cost: float = 1.0) -> float:
        """Seconds from ``now`` until ``cost`` tokens are available (0 if now)."""
        self._refill(now)
        return max(0.0, (cost - self._tokens) / self.rate)

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now
