"""The append-only audit trail: who did what to which record, and when.

Every read of a case and every change is recorded (clinical records law in most
places asks for access logs, and the team needs to see who changed a decision).
Events are only ever appended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    VIEWED = "viewed"
    CREATED = "created"
    UPDATED = "updated"
    SIGNED = "signed"
    AMENDED = "amended"
    TRANSITIONED = "transitioned"
    ADDED = "added"
    REMOVED = "removed"
    REORDERED = "reordered"
    SIGNED_IN = "signed_in"
    REVOKED = "revoked"
    SEARCHED = "searched"  # the image archive, for a case (or by a coordinator)


class Entity(StrEnum):
    USER = "user"
    CONFERENCE = "conference"
    CASE = "case"
    AGENDA_ITEM = "agenda_item"
    DECISION = "decision"
    REQUEST = "request"
    IMAGING = "imaging"
    GUEST_LINK = "guest_link"
    MESSAGE = "message"
    OUTCOME = "outcome"
    OUTCOME_LINK = "outcome_link"
    MAIL = "mail"
    AUDIT_EVENT = "audit_event"  # a line of this trail, read (as a FHIR AuditEvent)


@dataclass(frozen=True)
class AuditEvent:
    """One line of the trail: who did what to which record, and when."""

    actor_id: int | None
    action: AuditAction
    entity: Entity
    entity_id: int
    at: datetime
    case_id: int | None = None  # groups a case's imaging, agenda and decision events
    detail: dict[str, Any] = field(default_factory=dict)
