from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

import storage.tables  # noqa: F401
from storage.engine import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from tests.databases import PostgresDatabases


def _fresh_url(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    pg: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return pg.empty()


SEARCH = "case_search"  # storage/search.py's index and, on SQLite, FTS5's own tables

# The newest migration file's revision: every migration is on the one chain to it.
NEWEST = max(p.name.split("_")[0] for p in
             (Path(__file__).parents[2] / "storage/migrations/versions").glob("0*.py"))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_upgrades_empty_database_to_models(request: pytest.FixtureRequest, tmp_path: Path,
                                                     backend: str) -> None:
    engine = make_engine(_fresh_url(request, tmp_path, backend))
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision() == NEWEST
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    # The search index is SQL of each database's own (FTS5, tsvector), not a model.
    diff = [d for d in diff if not (d[0] in ("remove_table", "remove_index")
                                    and (getattr(d[1], "name", "") or "").startswith(
                                        (SEARCH, f"ix_{SEARCH}")))]
    assert diff == []
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert {t for t in tables if t.startswith(SEARCH)}
    assert {t for t in tables if not t.startswith(SEARCH)} == set(SQLModel.metadata.tables)
    upgrade(engine)  # idempotent
    engine.dispose()


def test_migration_audit_events_refuse_update_and_delete(engine: Engine, session: Session) -> None:
    from tests import factories

    factories.coordinator(session)  # creating a person writes an audit event
    session.commit()
    with engine.connect() as conn:
        for statement in ("UPDATE audit_event SET entity_id = 99", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1


def test_migration_declares_append_only_triggers(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
        else:
            rows = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        names = " ".join(r[0] for r in rows)
    assert "decision_revision" in names and "audit_event" in names


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_migration_downgrades_to_empty_and_up_again(request: pytest.FixtureRequest, tmp_path: Path,
                                                    backend: str) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    engine = make_engine(_fresh_url(request, tmp_path, backend))
    upgrade(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)  # the triggers and function are recreated without clashing
    assert current_revision(engine) == NEWEST
    engine.dispose()
