"""Every server-rendered page's route, gathered for the app."""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.pages import dashboard, session

routes: list[BaseRoute] = [*session.routes, *dashboard.routes]
