from datetime import UTC, datetime

from conference.signin import (
    ADDRESS_MAX_FAILURES,
    LOCKOUT,
    MAX_FAILURES,
    Attempts,
    delay_after,
    may_check,
    window_start,
)

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)


def test_signin_first_failures_are_free_then_slow_down() -> None:
    assert [delay_after(n) for n in range(0, 7)] == [0, 0, 0, 0.5, 1.0, 2.0, 4.0]
    assert delay_after(50) == 4.0


def test_signin_checks_only_within_both_limits() -> None:
    assert may_check(Attempts(account=MAX_FAILURES, address=ADDRESS_MAX_FAILURES))
    assert not may_check(Attempts(account=MAX_FAILURES + 1, address=1))
    assert not may_check(Attempts(account=1, address=ADDRESS_MAX_FAILURES + 1))


def test_signin_window_is_the_lockout() -> None:
    assert window_start(NOW) == NOW - LOCKOUT
