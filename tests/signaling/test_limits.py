"""The per-connection token bucket, driven by explicit times."""

from __future__ import annotations

import pytest

from signaling.limits import DEFAULT_BURST, RateLimiter


def test_rate_limiter_allows_a_full_burst_then_refuses() -> None:
    limiter = RateLimiter(rate=1.0, burst=3)
    assert [limiter.allow(100.0) for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_refills_at_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert limiter.allow(0.0) and limiter.allow(0.0)
    assert not limiter.allow(0.4)  # 0.8 token
    assert limiter.allow(0.5)  # 1 token
    assert not limiter.allow(0.5)


def test_rate_limiter_never_exceeds_burst_after_idle() -> None:
    limiter = RateLimiter(rate=10.0, burst=2)
    limiter.allow(0.0)
    results = [limiter.allow(3600.0) for _ in range(3)]
    assert results == [True, True, False]


def test_rate_limiter_refused_message_costs_nothing() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.allow(0.0)
    assert not limiter.allow(0.5)
    assert limiter.allow(1.0)


def test_rate_limiter_ignores_time_going_backwards() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.allow(10.0)
    assert not limiter.allow(5.0)
    assert not limiter.allow(10.5)  # no refill credited for the backwards step
    assert limiter.allow(11.0)


def test_rate_limiter_sustains_rate_under_flood() -> None:
    limiter = RateLimiter(rate=10.0, burst=5)
    allowed = sum(limiter.allow(i * 0.01) for i in range(1000))  # 100 msg/s for 10 s
    assert 5 + 99 <= allowed <= 5 + 100


def test_rate_limiter_charges_cost() -> None:
    limiter = RateLimiter(rate=1.0, burst=4)
    assert limiter.allow(0.0, cost=3)
    assert not limiter.allow(0.0, cost=2)
    assert limiter.allow(0.0, cost=1)


def test_rate_limiter_retry_after() -> None:
    limiter = RateLimiter(rate=4.0, burst=1)
    assert limiter.retry_after(0.0) == 0.0
    limiter.allow(0.0)
    assert limiter.retry_after(0.0) == pytest.approx(0.25)
    assert limiter.retry_after(0.1) == pytest.approx(0.15)


def test_rate_limiter_default_burst_fits_join_offer_and_candidates() -> None:
    limiter = RateLimiter()
    assert all(limiter.allow(0.0) for _ in range(DEFAULT_BURST))
    assert not limiter.allow(0.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 5), (-1.0, 5), (1.0, 0)])
def test_rate_limiter_rejects_nonsense_settings(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=rate, burst=burst)
