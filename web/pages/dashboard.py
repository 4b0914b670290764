"""The signed-in person's dashboard."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage import agenda, cases, conferences, referrals
from web.auth import require_user
from web.db import db
from web.templating import render


async def home(request: Request) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        request.state.user = user
        confs = conferences.visible_to(session, user)
        upcoming = [(c, agenda.items(session, c.id or 0)) for c in confs]
        own_requests = referrals.requests_of(session, viewer=user)
        visible = cases.visible_cases(session, viewer=user)
        return render(request, "pages/dashboard.html", {
            "conferences": upcoming, "requests": own_requests,
            "cases": {c.id: c for c in visible},
        })


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


routes = [Route("/", home)]
