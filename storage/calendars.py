"""Conferences in people's calendars: invitations, re-timing, the personal feed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from conference.audit import AuditAction, Entity
from conference.conferences import ConferenceStatus, check_conference
from conference.errors import Conflict, InvalidInput, NotFound
from conference.permissions import require_organiser
from storage import audit, conferences, invitations
from storage.clock import utcnow
from storage.tables import Conference, User

EDITABLE = ("title", "starts_at", "duration_minutes")


def change(session: Session, *, actor: User, conference_id: int,
           changes: Mapping[str, Any], base_url: str | None = None,
           now: datetime | None = None) -> tuple[Conference, bool]:
    """Re-title or re-time a conference (coordinators). Returns the conference and
    whether its members were told (it was published and something changed): then the
    invitation's sequence has been raised and its update mailed to every member."""
    require_organiser(actor.role, "change a conference")
    conf = conferences.get_conference(session, conference_id)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Only {', '.join(EDITABLE)} can be changed.",
                           field=sorted(unknown)[0])
    if conf.status in (ConferenceStatus.LIVE, ConferenceStatus.CLOSED):
        raise Conflict(f"This conference is {conf.status.value}: it can no longer be "
                       "re-timed or re-titled.", code="conference_under_way")
    new = {name: changes.get(name, getattr(conf, name)) for name in EDITABLE}
    check_conference(title=new["title"], starts_at=new["starts_at"],
                     duration_minutes=new["duration_minutes"])
    new["title"] = new["title"].strip()
    changed = {n: v for n, v in new.items() if getattr(conf, n) != v}
    if not changed:
        return conf, False
    for name, value in changed.items():
        setattr(conf, name, value)
    announce = conf.status is ConferenceStatus.PUBLISHED
    session.add(conf)
    if announce:
        conf.calendar_sequence += 1
        invitations.mail(session, conf, base_url=base_url, update=True, now=now)
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                 entity=Entity.CONFERENCE, entity_id=conference_id,
                 detail={"changed": sorted(changed)}, now=now or utcnow())
    return conf, announce


def feed_owner(session: Session, user_id: int, generation: int) -> User:
    """The active person whose feed address this is, if it was not reset since."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.calendar_generation != generation:
        raise NotFound("This calendar address is not valid any more: copy the new one "
                       "from Casebridge.")
    return user


def feed_conferences(session: Session, user: User) -> list[Conference]:
    """What a person's feed holds: every conference they may see that was announced."""
    return [c for c in conferences.visible_to(session, user)
            if c.status is not ConferenceStatus.DRAFT]


def reset_feed(session: Session, user: User) -> User:
    """A new feed address; the old one stops working."""
    user.calendar_generation += 1
    session.add(user)
    audit.record(session, actor_id=user.id, action=AuditAction.REVOKED, entity=Entity.USER,
                 entity_id=user.id or 0, detail={"calendar_feed": "reset"})
    return user
