"""Guest links: a signed, expiring link that lets one outside clinician see one agenda
item (its case page, and the live room while that item is current)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from conference.audit import AuditAction, Entity
from conference.errors import InvalidInput
from conference.permissions import require_organiser
from storage import agenda, audit
from web.api.endpoint import Call, operation
from web.api.schemas import GuestLinkIn
from web.api.views import GuestLink
from web.auth import signer


def create_guest_link(call: Call[GuestLinkIn]) -> GuestLink:
    require_organiser(call.user.role, "invite a guest")
    item = agenda.get_item(call.session, call.id())
    assert item.id is not None
    name = call.body.name.strip()
    if not name:
        raise InvalidInput("Say who the link is for.", field="name")
    token, expires_at = signer(call.request).issue_guest(
        conference_id=item.conference_id, item_id=item.id, name=name,
        ttl=timedelta(hours=call.body.expires_in_hours))
    # Absolute, so it can be pasted into an email as it is.
    url = f"{call.request.base_url}cases/{item.case_id}?{urlencode({'token': token})}"
    audit.record(call.session, actor_id=call.user.id, action=AuditAction.CREATED,
                 entity=Entity.AGENDA_ITEM, entity_id=item.id, case_id=item.case_id,
                 detail={"guest_link": name, "expires_at": expires_at.isoformat()})
    return GuestLink(token=token, url=url, expires_at=expires_at,
                     conference_id=item.conference_id, agenda_item_id=item.id, name=name)


routes = [
    operation("POST", "/agenda-items/{id:int}/guest-links", create_guest_link,
              body=GuestLinkIn, tag="guest links", status=201, response=GuestLink,
              summary="An expiring link for a guest, scoped to one agenda item (coordinators)"),
]
