"""Failed sign-ins counted atomically per (account, address) and per address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from conference.signin import LOCKOUT, Attempts
from storage import throttle
from storage.engine import session_scope

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def test_throttle_parallel_attempts_each_get_their_own_count(engine: Engine) -> None:
    def attempt(_: int) -> Attempts:
        with session_scope(engine) as session:
            return throttle.count_attempt(session, email="Lee@Example.org",
                                          address="203.0.113.9", now=NOW)

    with ThreadPoolExecutor(max_workers=12) as pool:
        counts = list(pool.map(attempt, range(12)))
    assert sorted(a.account for a in counts) == list(range(1, 13))
    assert sorted(a.address for a in counts) == list(range(1, 13))


def test_throttle_counts_apart_by_account_and_address(session: Session) -> None:
    def count(email: str, address: str) -> Attempts:
        return throttle.count_attempt(session, email=email, address=address, now=NOW)

    assert count("a@example.org", "203.0.113.9") == Attempts(account=1, address=1)
    assert count("b@example.org", "203.0.113.9") == Attempts(account=1, address=2)
    assert count("A@example.org ", "203.0.113.9") == Attempts(account=2, address=3)
    assert count("a@example.org", "198.51.100.7") == Attempts(account=1, address=1)


def test_throttle_success_forgives_and_old_failures_expire(session: Session) -> None:
    for _ in range(3):
        throttle.count_attempt(session, email="a@example.org", address="203.0.113.9", now=NOW)
    throttle.forgive(session, email="a@example.org", address="203.0.113.9")
    attempts = throttle.count_attempt(session, email="a@example.org", address="203.0.113.9",
                                      now=NOW)
    assert attempts == Attempts(account=1, address=3)  # the right password was not a failure
    later = NOW + LOCKOUT
    assert throttle.count_attempt(session, email="a@example.org", address="203.0.113.9",
                                  now=later) == Attempts(account=2, address=4)
    much_later = later + LOCKOUT + LOCKOUT
    throttle.forget_stale(session, now=much_later - LOCKOUT)  # nothing is stale yet
    assert throttle.count_attempt(session, email="a@example.org", address="203.0.113.9",
                                  now=much_later) == Attempts(account=1, address=1)
