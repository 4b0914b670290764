"""Guest links: made, listed and revoked by coordinators; checked on every use.

The token a guest holds is signed (``web/tokens.py``) and names its row here, so
revoking the row, or its expiry, ends the link at once; revoking also tells the
live room, which closes the guest's socket (``GuestLinkRevoked``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from conference import guest_links as rules
from conference.audit import AuditAction, Entity
from conference.errors import InvalidInput, NotAuthenticated, NotFound
from conference.permissions import require_organiser
from conference.room_events import GuestLinkRevoked
from storage import audit, events
from storage.agenda import get_item
from storage.clock import utcnow
from storage.conferences import get_conference
from storage.tables import GuestLink, User


def create_link(session: Session, *, actor: User, item_id: int, name: str,
                lifetime: timedelta | None = None, now: datetime | None = None) -> GuestLink:
    """A link for ``name`` to one agenda item; it lasts ``lifetime``, or by default
    until the conference has ended (``conference.guest_links.expiry``)."""
    require_organiser(actor.role, "invite a guest")
    item = get_item(session, item_id)
    conf = get_conference(session, item.conference_id)
    name = name.strip()
    if not name:
        raise InvalidInput("Say who the link is for.", field="name")
    at = now or utcnow()
    expires_at = rules.expiry(starts_at=conf.starts_at, duration_minutes=conf.duration_minutes,
                              now=at, lifetime=lifetime)
    link = GuestLink(conference_id=item.conference_id, agenda_item_id=item_id, name=name,
                     created_by_id=actor.id, created_at=at, expires_at=expires_at)
    session.add(link)
    session.flush()
    assert link.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED,
                 entity=Entity.GUEST_LINK, entity_id=link.id, case_id=item.case_id,
                 detail={"guest_link": name, "agenda_item_id": item_id,
                         "expires_at": expires_at.isoformat()}, now=at)
    return link


def get_link(session: Session, link_id: int) -> GuestLink:
    link = session.get(GuestLink, link_id)
    if link is None:
        raise NotFound(f"No guest link with id {link_id}.")
    return link


def links_for(session: Session, conference_id: int) -> list[GuestLink]:
    """A conference's links, newest first."""
    return list(session.exec(
        select(GuestLink).where(GuestLink.conference_id == conference_id)
        .order_by(col(GuestLink.created_at).desc(), col(GuestLink.id).desc())
    ))


def revoke(session: Session, *, actor: User, link_id: int,
           now: datetime | None = None) -> GuestLink:
    """End a link now; a guest in the room with it is disconnected. Revoking a link
    already revoked changes nothing."""
    require_organiser(actor.role, "revoke a guest link")
    link = get_link(session, link_id)
    if link.revoked_at is not None:
        return link
    at = now or utcnow()
    link.revoked_at, link.revoked_by_id = at, actor.id
    session.add(link)
    item = get_item(session, link.agenda_item_id)
    audit.record(session, actor_id=actor.id, action=AuditAction.REVOKED,
                 entity=Entity.GUEST_LINK, entity_id=link_id, case_id=item.case_id,
                 detail={"guest_link": link.name}, now=at)
    events.record(session, conference_id=link.conference_id,
                  event=GuestLinkRevoked(link_id=link_id))
    return link


def active_link(session: Session, *, link_id: int, conference_id: int, item_id: int,
                now: datetime | None = None) -> GuestLink:
    """The stored link a token names, if it still works: else :class:`NotAuthenticated`
    saying why (revoked, expired, or no such link)."""
    link = session.get(GuestLink, link_id)
    if link is None or (link.conference_id, link.agenda_item_id) != (conference_id, item_id):
        raise NotAuthenticated("This guest link is not valid.")
    rules.require_active(expires_at=link.expires_at, revoked_at=link.revoked_at,
                         now=now or utcnow())
    return link
