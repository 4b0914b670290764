from datetime import UTC, datetime, timedelta

from conference.analytics import minutes_between, percentile, share


def test_percentiles_by_hand() -> None:
    # 1..10: the median sits halfway between 5 and 6; the 90th at 9 + 0.1 x (10 - 9).
    values = [float(v) for v in range(10, 0, -1)]
    assert percentile(values, 50) == 5.5
    assert percentile(values, 90) == 9.1
    assert percentile([4.0], 90) == 4.0
    assert percentile([], 50) is None


def test_minutes_and_shares() -> None:
    t = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert minutes_between(t, t + timedelta(minutes=12, seconds=40)) == 13
    assert minutes_between(t, None) is None and minutes_between(t, t - timedelta(1)) is None
    assert share(1, 3) == 33.3 and share(0, 0) is None
