"""Reads the storage layer leaves to its callers: who may see a conference or an item.

Organisers see everything; everyone else sees the conferences they belong to
(any conference role) and those conferences' agenda items. Anything else is
reported as not found, so an outsider learns nothing, not even that it exists.
"""

from __future__ import annotations

from sqlmodel import Session

from conference.errors import NotFound
from storage import agenda, conferences
from storage.tables import AgendaItem, Conference, User


def visible_conference(session: Session, user: User, conference_id: int) -> Conference:
    return conferences.visible_conference(session, viewer=user, conference_id=conference_id)


def visible_item(session: Session, user: User, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    try:
        conferences.visible_conference(session, viewer=user, conference_id=item.conference_id)
    except NotFound:
        raise NotFound(f"No agenda item with id {item_id}.") from None
    return item
