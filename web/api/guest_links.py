"""Guest links: a stored, expiring, revocable link that lets one outside clinician see
one agenda item (its case page, and the live room while that item is current)."""

from __future__ import annotations

from datetime import timedelta

from conference.permissions import require_organiser
from storage import guest_links
from storage.conferences import get_conference
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, GuestLinkIn
from web.api.views import GuestLink, GuestLinkEntry
from web.auth import guest_link_url, signer


def create_guest_link(call: Call[GuestLinkIn]) -> GuestLink:
    hours = call.body.expires_in_hours
    link = guest_links.create_link(
        call.session, actor=call.user, item_id=call.id(), name=call.body.name,
        lifetime=None if hours is None else timedelta(hours=hours))
    token = signer(call.request).issue_guest(link)
    url = guest_link_url(call.request, call.session, link, token)
    assert link.id is not None
    return GuestLink(id=link.id, token=token, url=url, expires_at=link.expires_at,
                     conference_id=link.conference_id, agenda_item_id=link.agenda_item_id,
                     name=link.name)


def list_guest_links(call: Call[Empty]) -> list[GuestLinkEntry]:
    require_organiser(call.user.role, "see a conference's guest links")
    conf = get_conference(call.session, call.id())
    assert conf.id is not None
    return [GuestLinkEntry.of(link) for link in guest_links.links_for(call.session, conf.id)]


def revoke_guest_link(call: Call[Empty]) -> GuestLinkEntry:
    return GuestLinkEntry.of(guest_links.revoke(call.session, actor=call.user,
                                                link_id=call.id()))


routes = [
    operation("POST", "/agenda-items/{id:int}/guest-links", create_guest_link,
              body=GuestLinkIn, tag="guest links", status=201, response=GuestLink,
              summary="A link for a guest, scoped to one agenda item, lasting until the "
                      "conference has ended unless expires_in_hours says otherwise "
                      "(coordinators)"),
    operation("GET", "/conferences/{id:int}/guest-links", list_guest_links, body=Empty,
              tag="guest links", response=GuestLinkEntry, many=True,
              summary="A conference's guest links, newest first, with their state "
                      "(coordinators)"),
    operation("DELETE", "/guest-links/{id:int}", revoke_guest_link, body=Empty,
              tag="guest links", response=GuestLinkEntry,
              summary="Revoke a guest link: it stops working and a guest in the room with "
                      "it is disconnected (coordinators)"),
]
