from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.engine import make_engine
from storage.passwords import use_hasher
from tests.databases import PostgresDatabases, SqliteDatabases

# Argon2's defaults cost ~0.1 s a hash by design; tests create hundreds of people.
use_hasher(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    yield databases
    databases.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated database; tests that take ``engine`` run on both backends."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        pg: PostgresDatabases = request.getfixturevalue("postgres_databases")
        yield pg.new()
        pg.reset()
    else:
        yield request.getfixturevalue("sqlite_databases").new()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Storage tests run on SQLite and on PostgreSQL; elsewhere SQLite is enough,
    # unless a module sets BOTH_BACKENDS = True.
    both = "storage" in metafunc.module.__name__ or getattr(metafunc.module, "BOTH_BACKENDS", False)
    if "database_url" in metafunc.fixturenames and both:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)
