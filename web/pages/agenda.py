"""Agenda actions on the conference page: add a case, reorder, minutes, guest links."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from starlette.responses import Response
from starlette.routing import Route

from conference.agenda import MAX_ITEM_MINUTES, MIN_ITEM_MINUTES
from conference.errors import CasebridgeError, Conflict, NotFound
from conference.permissions import require_organiser
from storage import agenda, guest_links
from storage.tables import AgendaItem
from web.api.schemas import AgendaItemIn, AgendaItemPatch, Empty, GuestLinkIn
from web.auth import guest_link_url, signer
from web.pages.action import Posted, Refusal, action
from web.pages.common import flash, see_other, visible_conference
from web.pages.conferences import again
from web.pages.form_model import FormModel, Label

MINUTES = Label("Planned minutes", invalid=f"A case gets {MIN_ITEM_MINUTES} to "
                                           f"{MAX_ITEM_MINUTES} minutes.")


def _item_of(session: Session, conference_id: int, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    if item.conference_id != conference_id:
        raise NotFound(f"Item {item_id} is not on this conference's agenda.")
    return item


def _add_case(call: Posted[AgendaItemIn]) -> Response:
    others = agenda.also_on(call.session, case_id=call.values.case_id, conference_id=call.id())
    if others and call.form.get("also_on_confirmed") != "1":
        names = "; ".join(f"{c.title} ({c.starts_at:%d %b %Y})" for c in others)
        raise Conflict(f"This case is already on another agenda, not yet decided: {names}. "
                       "Tick the box to add it here as well, or choose another case.",
                       code="case_on_another_agenda")
    agenda.add_item(call.session, actor=call.user, conference_id=call.id(),
                    case_id=call.values.case_id, planned_minutes=call.values.planned_minutes)
    flash(call.request, "The case is on the agenda.")
    return see_other(f"/conferences/{call.id()}#agenda")


def _refused_add(call: Posted[AgendaItemIn], exc: CasebridgeError) -> None:
    """The case picked stays picked; a second agenda shows its warning and the box."""
    if exc.code == "case_on_another_agenda":
        call.extra["also_on_warning"] = exc.message
    else:
        Refusal("case_id", rename={"conference_id": "case_id"}).show(call, exc)


add_case = action(_add_case, again=again, refused=_refused_add, model=FormModel(
    AgendaItemIn, labels={"case_id": Label("A case"), "planned_minutes": MINUTES}))


def _move(call: Posted[Empty]) -> Response:
    """Move one item up or down: a plain form, so it works without JavaScript."""
    conf_id, item_id = call.id(), call.id("item_id")
    require_organiser(call.user.role, "reorder an agenda")
    _item_of(call.session, conf_id, item_id)
    ids = [i.id for i in agenda.items(call.session, conf_id) if i.id is not None]
    at = ids.index(item_id)
    to = at - 1 if call.form.get("direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        agenda.reorder(call.session, actor=call.user, conference_id=conf_id, item_ids=ids)
    return see_other(f"/conferences/{conf_id}#item-{item_id}")


def _defer(call: Posted[Empty]) -> Response:
    """Put a case off to a later meeting (the agenda keeps it, marked deferred)."""
    conf_id, item_id = call.id(), call.id("item_id")
    visible_conference(call.session, call.user, conf_id)
    _item_of(call.session, conf_id, item_id)
    agenda.defer(call.session, actor=call.user, item_id=item_id)
    flash(call.request, "Deferred: the case stays on this agenda, marked deferred; "
                        "add it to a later conference to discuss it there.")
    return see_other(f"/conferences/{conf_id}#item-{item_id}")


def _minutes(call: Posted[AgendaItemPatch]) -> Response:
    conf_id, item_id = call.id(), call.id("item_id")
    visible_conference(call.session, call.user, conf_id)
    _item_of(call.session, conf_id, item_id)
    agenda.set_minutes(call.session, actor=call.user, item_id=item_id,
                       planned_minutes=call.values.planned_minutes)
    return see_other(f"/conferences/{conf_id}#item-{item_id}")


def _guest_link(call: Posted[GuestLinkIn]) -> Response:
    """An expiring link to one agenda item's case, for an outside clinician."""
    conf_id, item_id = call.id(), call.id("item_id")
    require_organiser(call.user.role, "share a case with a guest")
    visible_conference(call.session, call.user, conf_id)
    _item_of(call.session, conf_id, item_id)
    hours = call.values.expires_in_hours
    link = guest_links.create_link(call.session, actor=call.user, item_id=item_id,
                                   name=call.values.name,
                                   lifetime=None if hours is None else timedelta(hours=hours))
    url = guest_link_url(call.request, call.session, link, signer(call.request).issue_guest(link))
    call.extra["guest_link"] = {"item_id": item_id, "url": url, "name": link.name,
                                "expires_at": link.expires_at}
    return again(call, 200)


def _revoke_guest_link(call: Posted[Empty]) -> Response:
    """Withdraw a guest link: it stops working, a guest in the room is disconnected."""
    conf_id = call.id()
    visible_conference(call.session, call.user, conf_id)
    link = guest_links.get_link(call.session, call.id("link_id"))
    if link.conference_id != conf_id:
        raise NotFound(f"No guest link with id {link.id} in this conference.")
    guest_links.revoke(call.session, actor=call.user, link_id=call.id("link_id"))
    flash(call.request, f"The guest link for {link.name} no longer works.")
    return see_other(f"/conferences/{conf_id}#guest-links")


move = action(_move)
defer = action(_defer)
minutes = action(
    _minutes, again=again, model=FormModel(AgendaItemPatch, labels={"planned_minutes": MINUTES}),
    refusal=Refusal("planned_minutes"),
    field_names=lambda call: {"planned_minutes": f"minutes-{call.id('item_id')}"})
WHOM = "Whom is the link for? Their name is shown on the page."
revoke_guest_link = action(_revoke_guest_link)
guest_link = action(
    _guest_link, again=again, refusal=Refusal("name"),
    model=FormModel(GuestLinkIn, labels={"name": Label("Name", required=WHOM, invalid=WHOM)}),
    field_names=lambda call: {"name": f"guest-{call.id('item_id')}"})


routes = [
    Route("/conferences/{id:int}/agenda", add_case, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/move", move, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/minutes", minutes, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/defer", defer, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/guest-link", guest_link,
          methods=["POST"]),
    Route("/conferences/{id:int}/guest-links/{link_id:int}/revoke", revoke_guest_link,
          methods=["POST"]),
]
