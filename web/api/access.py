"""Reads the storage layer leaves to its callers: who may see a conference or an item.

Organisers see everything; everyone else sees the conferences they belong to
(any conference role) and those conferences' agenda items. Anything else is
reported as not found, so an outsider learns nothing, not even that it exists.
"""

from __future__ import annotations

from sqlmodel import Session

from conference.errors import NotFound
from conference.permissions import is_organiser
from storage import agenda, conferences
from storage.tables import AgendaItem, Conference, User


def may_see_conference(session: Session, user: User, conference_id: int) -> bool:
    assert user.id is not None
    return is_organiser(user.role) or conferences.role_in(
        session, conference_id=conference_id, user_id=user.id) is not None


def visible_conference(session: Session, user: User, conference_id: int) -> Conference:
    conf = conferences.get_conference(session, conference_id)
    if not may_see_conference(session, user, conference_id):
        raise NotFound(f"No conference with id {conference_id}.")
    return conf


def visible_item(session: Session, user: User, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    if not may_see_conference(session, user, item.conference_id):
        raise NotFound(f"No agenda item with id {item_id}.")
    return item
