"""The JSON API under /api/v1 (see CONTRACT and /api/v1/openapi.json).

One module per concept; each lists its routes, gathered here. Every route but
``POST /auth/token`` and the OpenAPI document is an :class:`~web.api.endpoint.ApiRoute`
built by :func:`~web.api.endpoint.operation`, which authenticates, checks CSRF,
validates the body and serialises the answer the same way everywhere.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web.api import (
    agenda,
    analytics,
    audit,
    auth,
    calendars,
    care_loop,
    cases,
    conferences,
    decisions,
    guest_links,
    notifications,
    outbox,
    outcomes,
    requests,
    search,
    threads,
    users,
)
from web.api.openapi import openapi_endpoint
from web.fhir import routes as fhir

routes: list[BaseRoute] = [
    *auth.routes,
    *users.routes,
    *conferences.routes,
    *agenda.routes,
    *cases.routes,
    *decisions.routes,
    *requests.routes,
    *audit.routes,
    *guest_links.routes,
    *threads.routes,
    *notifications.routes,
    *outbox.routes,
    *calendars.routes,
    *outcomes.routes,
    *care_loop.routes,
    *search.routes,
    *analytics.routes,
    *fhir.api_routes,
]
routes.append(Route("/openapi.json", openapi_endpoint(list(routes)), methods=["GET"]))
