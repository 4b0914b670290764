"""A database session per unit of work, from the app's engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session
from starlette.requests import HTTPConnection

from storage.engine import session_scope


@contextmanager
def db(conn: HTTPConnection) -> Iterator[Session]:
    """Commit on success, roll back on error (the error then becomes a response)."""
    with session_scope(conn.app.state.engine) as session:
        yield session
