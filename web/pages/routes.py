"""Every server-rendered page's route, gathered for the app."""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.pages import (
    admin,
    agenda,
    analytics,
    calendars,
    care_loop,
    cases,
    conferences,
    dashboard,
    decisions,
    meeting,
    notifications,
    outbox,
    outcomes,
    requests,
    search,
    session,
)

routes: list[BaseRoute] = [
    *session.routes,
    *dashboard.routes,
    *conferences.routes,
    *agenda.routes,
    *cases.routes,
    *decisions.routes,
    *requests.routes,
    *admin.routes,
    *meeting.routes,
    *notifications.routes,
    *outbox.routes,
    *calendars.routes,
    *outcomes.routes,
    *care_loop.routes,
    *search.routes,
    *analytics.routes,
]
