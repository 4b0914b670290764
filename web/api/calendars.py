"""Conferences in calendars: re-timing (members' calendars follow) and the personal
subscription feed."""

from __future__ import annotations

from storage import calendars
from web.api.conferences import detail
from web.api.endpoint import Call, operation
from web.api.schemas import ConferencePatch, Empty
from web.api.views import CalendarFeedView, ConferenceDetail
from web.auth import public_base
from web.calendars import feed_url


def change_conference(call: Call[ConferencePatch]) -> ConferenceDetail:
    conf, _ = calendars.change(call.session, actor=call.user, conference_id=call.id(),
                               changes=call.body.changes(),
                               base_url=public_base(call.request))
    call.session.flush()
    return detail(call.session, conf)


def my_feed(call: Call[Empty]) -> CalendarFeedView:
    return CalendarFeedView(url=feed_url(call.request, call.user))


def reset_feed(call: Call[Empty]) -> CalendarFeedView:
    return CalendarFeedView(url=feed_url(call.request, calendars.reset_feed(call.session,
                                                                            call.user)))


routes = [
    operation("PATCH", "/conferences/{id:int}", change_conference, body=ConferencePatch,
              tag="conferences", response=ConferenceDetail,
              summary="Re-title or re-time a conference (coordinators); once published, "
                      "members' calendars are updated (higher SEQUENCE)"),
    operation("GET", "/users/me/calendar", my_feed, body=Empty, tag="users",
              response=CalendarFeedView,
              summary="Your calendar subscription address (private: it needs no sign-in)"),
    operation("POST", "/users/me/calendar/reset", reset_feed, body=Empty, optional_body=True,
              tag="users", response=CalendarFeedView,
              summary="A new subscription address; the old one stops working"),
]
