"""Slowing down and locking out repeated failed sign-ins (OWASP ASVS 2.2.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

FREE_ATTEMPTS = 2
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MAX_DELAY_SECONDS = 4.0


def delay_after(failures: int) -> float:
    """Seconds to wait before answering, growing with each failure past the free ones."""
    if failures <= FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY_SECONDS, 0.5 * 2.0 ** (failures - FREE_ATTEMPTS - 1))


def locked_until(failures: int, now: datetime) -> datetime | None:
    """When ``failures`` reaches the limit, the account rests until the returned time."""
    return now + LOCKOUT if failures >= MAX_FAILURES else None


def is_locked(until: datetime | None, now: datetime) -> bool:
    """Is the account still resting after too many failures?"""
    return until is not None and now < until
