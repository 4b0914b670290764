"""The audit trail of one record, for coordinators and admins."""

from __future__ import annotations

from sqlmodel import SQLModel

from conference.audit import Entity
from conference.errors import NotFound
from conference.permissions import require_organiser
from storage import audit
from storage.tables import (
    AgendaItem,
    AuditEvent,
    Case,
    CaseMessage,
    Conference,
    Decision,
    GuestLink,
    ImagingLink,
    OutboxMail,
    OutcomeLink,
    OutcomeMeasure,
    SecondOpinionRequest,
    User,
)
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import AuditQuery, Empty
from web.api.views import AuditEventView

TABLES: dict[Entity, type[SQLModel]] = {
    Entity.USER: User, Entity.CONFERENCE: Conference, Entity.CASE: Case,
    Entity.AGENDA_ITEM: AgendaItem, Entity.DECISION: Decision,
    Entity.REQUEST: SecondOpinionRequest, Entity.IMAGING: ImagingLink,
    Entity.GUEST_LINK: GuestLink, Entity.MESSAGE: CaseMessage, Entity.OUTCOME: OutcomeMeasure,
    Entity.OUTCOME_LINK: OutcomeLink, Entity.MAIL: OutboxMail, Entity.AUDIT_EVENT: AuditEvent,
}


def events(call: Call[Empty]) -> list[AuditEventView]:
    require_organiser(call.user.role, "read the audit trail")
    query = read_query(call.request.query_params, AuditQuery)
    if call.session.get(TABLES[query.entity], query.id) is None:
        raise NotFound(f"No {query.entity.value.replace('_', ' ')} with id {query.id}.")
    return [AuditEventView.model_validate(e)
            for e in audit.events_for(call.session, entity=query.entity, entity_id=query.id)]


routes = [
    operation("GET", "/audit", events, body=Empty, query=AuditQuery, tag="audit", many=True,
              summary="Audit events of one record, oldest first (coordinators, admins); "
                      "a case's include its imaging, agenda and decision events",
              response=AuditEventView),
]
