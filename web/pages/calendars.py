"""Calendar files: a conference's ``.ics`` for its members, a person's subscription
feed (the address itself is the credential), and the page that shows that address."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference.errors import NotFound
from storage import calendars, conferences
from web.auth import signer
from web.calendars import ICS, conference_ics, feed_ics, feed_url
from web.db import db
from web.pages.action import Posted, Visit, action, view
from web.pages.common import flash, page, see_other


def _ics(body: bytes, filename: str) -> Response:
    return Response(body, media_type=ICS, headers={
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "private, no-store"})


@view
def invite(visit: Visit) -> Response:
    """``/conferences/{id}/invite.ics``: for whoever may open the conference."""
    conf = conferences.visible_conference(visit.session, viewer=visit.user,
                                          conference_id=visit.id())
    return _ics(conference_ics(visit.request, visit.session, conf),
                f"casebridge-conference-{conf.id}.ics")


def _feed(request: Request) -> Response:
    token = str(request.path_params["token"])
    try:
        user_id, generation = signer(request).read_feed(token)
    except Exception as exc:  # a bad address is simply not found
        raise NotFound("This calendar address is not valid.") from exc
    with db(request) as session:
        user = calendars.feed_owner(session, user_id, generation)
        return _ics(feed_ics(request, session, user), "casebridge.ics")


async def feed(request: Request) -> Response:
    """``/calendar/{token}.ics``: calendar programs poll it without signing in."""
    return await run_in_threadpool(_feed, request)


@view
def feed_page(visit: Visit) -> Response:
    return page(visit.request, "pages/calendar.html",
                {"feed_url": feed_url(visit.request, visit.user)})


def _reset(call: Posted[Any]) -> Response:
    calendars.reset_feed(call.session, call.user)
    flash(call.request, "Your calendar has a new address; the old one no longer works.")
    return see_other("/calendar")


routes = [
    Route("/conferences/{id:int}/invite.ics", invite),
    Route("/calendar/{token:str}.ics", feed),
    Route("/calendar", feed_page),
    Route("/calendar/reset", action(_reset), methods=["POST"]),
]
