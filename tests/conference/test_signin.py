from datetime import UTC, datetime, timedelta

from conference.signin import LOCKOUT, MAX_FAILURES, delay_after, is_locked, locked_until

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)


def test_signin_first_failures_are_free_then_slow_down() -> None:
    assert [delay_after(n) for n in range(0, 7)] == [0, 0, 0, 0.5, 1.0, 2.0, 4.0]
    assert delay_after(50) == 4.0


def test_signin_locks_at_the_limit() -> None:
    assert locked_until(MAX_FAILURES - 1, NOW) is None
    assert locked_until(MAX_FAILURES, NOW) == NOW + LOCKOUT


def test_signin_lock_expires() -> None:
    until = NOW + timedelta(minutes=1)
    assert is_locked(until, NOW)
    assert not is_locked(until, until)
    assert not is_locked(None, NOW)
