"""Stored guest links on both databases: made, checked on use, revoked."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from conference.errors import Conflict, NotAuthenticated, PermissionDenied
from conference.room_events import GuestLinkRevoked
from storage import events, guest_links
from storage.clock import utcnow
from storage.tables import GuestLink
from tests import factories
from tests.factories import id_of


def test_guest_link_is_checked_against_its_row(session: Session) -> None:
    coord = factories.coordinator(session)
    conf = factories.conference(session, coord, factories.user(session), minutes=45)
    item = factories.item(session, coord, conf)
    link = guest_links.create_link(session, actor=coord, item_id=id_of(item), name=" Dr. Ortiz ")
    assert link.name == "Dr. Ortiz"
    assert link.expires_at > conf.starts_at + timedelta(minutes=45)

    def check(item_id: int = id_of(item), now: datetime | None = None) -> GuestLink:
        return guest_links.active_link(session, link_id=id_of(link), conference_id=id_of(conf),
                                       item_id=item_id, now=now)

    assert check() == link
    with pytest.raises(NotAuthenticated, match="not valid"):
        check(item_id=id_of(item) + 1)
    with pytest.raises(NotAuthenticated, match="expired"):
        check(now=link.expires_at)
    events.take(session)
    guest_links.revoke(session, actor=coord, link_id=id_of(link))
    assert events.take(session) == [(id_of(conf), GuestLinkRevoked(link_id=id_of(link)))]
    with pytest.raises(NotAuthenticated, match="withdrawn"):
        check()
    guest_links.revoke(session, actor=coord, link_id=id_of(link))
    assert events.take(session) == []  # nothing more to tell the room
    assert [row.id for row in guest_links.links_for(session, id_of(conf))] == [link.id]


def test_guest_link_refusals(session: Session) -> None:
    coord = factories.coordinator(session)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair)
    item = factories.item(session, coord, conf)
    with pytest.raises(PermissionDenied):
        guest_links.create_link(session, actor=chair, item_id=id_of(item), name="X")
    link = guest_links.create_link(session, actor=coord, item_id=id_of(item), name="X")
    with pytest.raises(PermissionDenied):
        guest_links.revoke(session, actor=chair, link_id=id_of(link))
    conf.starts_at = utcnow() - timedelta(days=3)
    session.add(conf)
    with pytest.raises(Conflict, match="has ended"):
        guest_links.create_link(session, actor=coord, item_id=id_of(item), name="Late")
    late = guest_links.create_link(session, actor=coord, item_id=id_of(item), name="Late",
                                   lifetime=timedelta(hours=2))
    assert late.expires_at > utcnow() + timedelta(minutes=119)
