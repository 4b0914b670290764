"""Agenda actions on the conference page: add a case, reorder, minutes, guest links."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.errors import Conflict, InvalidInput, NotFound
from conference.permissions import require_organiser
from storage import agenda
from storage.tables import AgendaItem
from web.auth import signer
from web.db import db
from web.pages.common import flash, path_id, see_other, signed_in, visible_conference
from web.pages.conferences import conference_page
from web.pages.forms import FormInvalid, apply_error, read_form


def _item_of(session: Session, conference_id: int, item_id: int) -> AgendaItem:
    item = agenda.get_item(session, item_id)
    if item.conference_id != conference_id:
        raise NotFound(f"Item {item_id} is not on this conference's agenda.")
    return item


async def add_case(request: Request) -> Response:
    conf_id = path_id(request)
    form = await read_form(request)
    try:
        with db(request) as session:
            user = signed_in(request, session)
            case_id = form.integer("case_id", "A case")
            minutes = form.integer("planned_minutes", "Planned minutes")
            form.check()
            assert case_id is not None and minutes is not None
            agenda.add_item(session, actor=user, conference_id=conf_id, case_id=case_id,
                            planned_minutes=minutes)
    except InvalidInput as exc:
        apply_error(form, exc, rename={"conference_id": "case_id"})
    except Conflict as exc:
        form.fail("case_id", exc.message)
    except FormInvalid:
        pass
    else:
        flash(request, "The case is on the agenda.")
        return see_other(f"/conferences/{conf_id}#agenda")
    with db(request) as session:
        user = signed_in(request, session)
        return conference_page(request, session, user, conf_id, form, 422)


async def move(request: Request) -> Response:
    """Move one item up or down: a plain form, so it works without JavaScript."""
    conf_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    with db(request) as session:
        user = signed_in(request, session)
        require_organiser(user.role, "reorder an agenda")
        _item_of(session, conf_id, item_id)
        ids = [i.id for i in agenda.items(session, conf_id) if i.id is not None]
        at = ids.index(item_id)
        to = at - 1 if form.get("direction") == "up" else at + 1
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
            agenda.reorder(session, actor=user, conference_id=conf_id, item_ids=ids)
    return see_other(f"/conferences/{conf_id}#item-{item_id}")


async def defer(request: Request) -> Response:
    """Put a case off to a later meeting (the agenda keeps it, marked deferred)."""
    conf_id, item_id = path_id(request), path_id(request, "item_id")
    await read_form(request)
    with db(request) as session:
        user = signed_in(request, session)
        visible_conference(session, user, conf_id)
        _item_of(session, conf_id, item_id)
        agenda.defer(session, actor=user, item_id=item_id)
    flash(request, "Deferred: the case stays on this agenda, marked deferred; "
                   "add it to a later conference to discuss it there.")
    return see_other(f"/conferences/{conf_id}#item-{item_id}")


async def minutes(request: Request) -> Response:
    conf_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    name = f"minutes-{item_id}"
    form.data[name] = form.getlist("planned_minutes")
    try:
        with db(request) as session:
            user = signed_in(request, session)
            visible_conference(session, user, conf_id)
            _item_of(session, conf_id, item_id)
            value = form.integer(name, "Planned minutes")
            form.check()
            assert value is not None
            agenda.set_minutes(session, actor=user, item_id=item_id, planned_minutes=value)
    except InvalidInput as exc:
        apply_error(form, exc, rename={"planned_minutes": name})
    except FormInvalid:
        pass
    else:
        return see_other(f"/conferences/{conf_id}#item-{item_id}")
    with db(request) as session:
        user = signed_in(request, session)
        return conference_page(request, session, user, conf_id, form, 422)


async def guest_link(request: Request) -> Response:
    """An expiring link to one agenda item's case, for an outside clinician."""
    conf_id, item_id = path_id(request), path_id(request, "item_id")
    form = await read_form(request)
    name_field = f"guest-{item_id}"
    form.data[name_field] = form.getlist("name")
    with db(request) as session:
        user = signed_in(request, session)
        require_organiser(user.role, "share a case with a guest")
        visible_conference(session, user, conf_id)
        item = _item_of(session, conf_id, item_id)
        name = form.text(name_field)
        if not name or len(name) > 200:
            form.fail(name_field, "Whom is the link for? Their name is shown on the page.")
            return conference_page(request, session, user, conf_id, form, 422)
        token, expires = signer(request).issue_guest(conference_id=conf_id, item_id=item_id,
                                                     name=name)
        url = f"{str(request.base_url).rstrip('/')}/cases/{item.case_id}?token={token}"
        link = {"item_id": item_id, "url": url, "name": name, "expires_at": expires}
        return conference_page(request, session, user, conf_id, form, guest_link=link)


routes = [
    Route("/conferences/{id:int}/agenda", add_case, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/move", move, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/minutes", minutes, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/defer", defer, methods=["POST"]),
    Route("/conferences/{id:int}/agenda/{item_id:int}/guest-link", guest_link,
          methods=["POST"]),
]
