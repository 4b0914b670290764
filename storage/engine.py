"""The database engine, from ``CASEBRIDGE_DATABASE_URL``.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every
connection; PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

DEFAULT_DATABASE_URL = "sqlite:///./casebridge.db"
# Database work runs in worker threads (Starlette's limiter: 40 at once, plus
# sign-in's own 4: web/auth.py), each holding one connection for one short unit
# of work and never across an await. Ten kept open and up to thirty-four more on
# demand cover all forty-four, so a thread never waits for a connection; a
# process thus opens at most 44 connections to PostgreSQL (its default
# max_connections is 100: mind it with several instances).
POOL_SIZE = 10
POOL_OVERFLOW = 34
POOL_TIMEOUT_SECONDS = 10


def database_url() -> str:
    """The configured URL; ``postgresql://`` is read as ``postgresql+psycopg://``."""
    url = os.environ.get("CASEBRIDGE_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the configured one)."""
    target = make_url(url or database_url())
    if target.get_backend_name() == "sqlite":
        engine = create_engine(target, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        if target.database and target.database != ":memory:":
            with engine.connect() as conn:
                # WAL is a property of the file: set it once, readers then never
                # block the writer (the live room writes while pages read).
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(target, pool_pre_ping=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_OVERFLOW, pool_timeout=POOL_TIMEOUT_SECONDS)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
