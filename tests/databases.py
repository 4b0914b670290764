"""Isolated, migrated databases for tests: a fresh SQLite file or PostgreSQL database each.

Migrating once per run into a template and copying it per test keeps the suite
fast while every test still starts from exactly the migrated schema.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from storage.engine import make_engine
from storage.migrate import upgrade

ADMIN_URL = os.environ.get(
    "CASEBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _admin() -> Engine:
    return make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")


class PostgresDatabases:
    """One migrated database per run, emptied between tests, plus empty ones on demand.

    TRUNCATE (about 20 ms) is far cheaper than CREATE DATABASE from a template
    (about 400 ms here); the tests run one at a time, so sharing is safe.
    """

    def __init__(self) -> None:
        self.prefix = f"cb_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.admin = _admin()
        self.created: list[str] = []
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = make_engine(self.url(self.template))
        upgrade(engine)
        engine.dispose()

    def url(self, name: str) -> str:
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def new(self) -> str:
        """The shared migrated database, empty."""
        return self.url(self.template)

    def empty(self) -> str:
        """A brand-new database with no tables at all."""
        name = f"{self.prefix}_{len(self.created)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url(name)

    def reset(self) -> None:
        engine = make_engine(self.url(self.template))
        with engine.begin() as conn:
            # The append-only tables refuse TRUNCATE (a trigger); a test database is
            # emptied with triggers off for this transaction (superuser only).
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"))]
            conn.execute(text(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        engine.dispose()

    def close(self) -> None:
        with self.admin.connect() as conn:
            for name in [*self.created, self.template]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


class SqliteDatabases:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        engine.dispose()
        self.count = 0

    def new(self) -> str:
        self.count += 1
        target = self.folder / f"t{self.count}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"
