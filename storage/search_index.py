"""The search documents, kept current: one per case, rewritten in the same transaction
as any change to what it holds (see ``storage/search.py`` for reading them).

This module imports only the tables (not the other repositories), so the package can
register its hooks on import without an import circle.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from storage.tables import CareEntry, Case, DecisionRevision


def document(session: Session, case: Case) -> str:
    """What search reads of a case."""
    assert case.id is not None
    parts = [case.patient_ref, case.question, case.summary, case.eases or "", case.worsens or ""]
    for entry in session.exec(select(CareEntry).where(CareEntry.case_id == case.id)):
        parts += [entry.kind.value.replace("_", " "), entry.description, entry.notes or ""]
    latest = latest_revision(session, case.id)
    if latest is not None:
        parts += [latest.outcome.value.replace("_", " "), latest.rationale, latest.plan]
    return "\n".join(p for p in parts if p)


def latest_revision(session: Session, case_id: int) -> DecisionRevision | None:
    return session.exec(select(DecisionRevision).where(DecisionRevision.case_id == case_id)
                        .order_by(col(DecisionRevision.id).desc())).first()


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def reindex(session: Session, case_ids: Iterable[int]) -> None:
    """Rewrite the documents of ``case_ids`` (in the caller's transaction)."""
    for case_id in sorted(set(case_ids)):
        case = session.get(Case, case_id)
        if case is None:
            continue
        body = document(session, case)
        if postgres(session):
            session.execute(text("INSERT INTO case_search (case_id, body) VALUES (:id, :body) "
                                 "ON CONFLICT (case_id) DO UPDATE SET body = EXCLUDED.body"),
                            {"id": case_id, "body": body})
        else:
            session.execute(text("DELETE FROM case_search WHERE rowid = :id"), {"id": case_id})
            session.execute(text("INSERT INTO case_search (rowid, body) VALUES (:id, :body)"),
                            {"id": case_id, "body": body})


def ensure_indexed(session: Session) -> None:
    """Index the cases that have no document yet (those from before migration 0011, or
    written around the ORM). Once at startup (``web.app``), not per query: every later
    change keeps its own document current."""
    if postgres(session):
        missing = 'SELECT id FROM "case" WHERE id NOT IN (SELECT case_id FROM case_search)'
    else:
        missing = 'SELECT id FROM "case" WHERE id NOT IN (SELECT rowid FROM case_search)'
    ids = [row[0] for row in session.execute(text(missing))]
    if ids:
        reindex(session, ids)


_WATCHED = (Case, CareEntry, DecisionRevision)
_PENDING = "casebridge.search.pending"


@event.listens_for(OrmSession, "after_flush")
def _note_changes(session: OrmSession, _context: object) -> None:
    pending: set[int] = session.info.setdefault(_PENDING, set())
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Case) and obj.id is not None:
            pending.add(obj.id)
        elif isinstance(obj, (CareEntry, DecisionRevision)):
            pending.add(obj.case_id)


@event.listens_for(OrmSession, "before_commit")
def _write_documents(session: OrmSession) -> None:
    pending: set[int] = session.info.pop(_PENDING, set())
    if pending:
        session.flush()
        pending |= session.info.pop(_PENDING, set())
        reindex(session, pending)  # type: ignore[arg-type]


@event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)
