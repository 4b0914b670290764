"""The audit trail: append and read, never update or delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from conference.audit import AuditAction, Entity
from storage.clock import utcnow
from storage.tables import AuditEvent


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: AuditAction,
    entity: Entity,
    entity_id: int,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the trail."""
    event = AuditEvent(
        at=now or utcnow(), actor_id=actor_id, action=action, entity=entity,
        entity_id=entity_id, case_id=case_id, detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, *, entity: Entity, entity_id: int) -> list[AuditEvent]:
    """Oldest first. For a case, its imaging, agenda and decision events come too."""
    query = select(AuditEvent)
    if entity is Entity.CASE:
        query = query.where(
            or_(
                (col(AuditEvent.entity) == entity) & (col(AuditEvent.entity_id) == entity_id),
                col(AuditEvent.case_id) == entity_id,
            )
        )
    else:
        query = query.where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
    return list(session.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))))
