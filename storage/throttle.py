"""Counting failed sign-ins per (account, client address) and per address.

The rules are in ``conference/signin.py``. Each attempt is counted with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` before its password is checked,
so concurrent attempts each see their own number (SQLite 3.35+ and PostgreSQL).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from conference.signin import Attempts, window_start
from storage.tables import SignInThrottle

ANY_ACCOUNT = ""  # the row counting an address's failures across accounts


def account_key(email: str) -> str:
    """A digest of the typed address: counted alike whether or not anyone holds it."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _count(session: Session, *, account: str, address: str, now: datetime) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = SignInThrottle.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(account=account, address=address, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["account", "address"],
            set_={"failures": case((table.c.last_failure_at < window_start(now), 1),
                                   else_=table.c.failures + 1),
                  "last_failure_at": now})
        .returning(table.c.failures)
    )
    return int(session.execute(statement).scalar_one())


def count_attempt(session: Session, *, email: str, address: str, now: datetime) -> Attempts:
    """Count an attempt as failed (it is forgiven on success: :func:`forgive`)."""
    address = address[:64]
    return Attempts(
        account=_count(session, account=account_key(email), address=address, now=now),
        address=_count(session, account=ANY_ACCOUNT, address=address, now=now),
    )


def forgive(session: Session, *, email: str, address: str) -> None:
    """A right password: this account's count from this address starts again, and the
    attempt no longer counts against the address."""
    address = address[:64]
    session.execute(delete(SignInThrottle).where(
        col(SignInThrottle.account) == account_key(email),
        col(SignInThrottle.address) == address))
    session.execute(update(SignInThrottle).where(
        col(SignInThrottle.account) == ANY_ACCOUNT, col(SignInThrottle.address) == address,
        col(SignInThrottle.failures) > 0).values(failures=SignInThrottle.failures - 1))


def forget_account(session: Session, *, email: str) -> None:
    """An administrator's new password or re-activation: every address starts afresh
    on this account."""
    session.execute(delete(SignInThrottle).where(
        col(SignInThrottle.account) == account_key(email)))


def forget_stale(session: Session, *, now: datetime) -> None:
    """Counts whose window has passed mean nothing any more."""
    session.execute(delete(SignInThrottle).where(
        col(SignInThrottle.last_failure_at) < window_start(now)))
