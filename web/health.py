"""Health for the load balancer and the hospital's monitoring.

``/healthz`` (liveness): the process answers; the body says how the database and
Redis are doing, separately, and it stays 200 so a database outage does not get
every instance restarted. ``/readyz`` (readiness): 503 while the database, or
Redis when one is configured, is unreachable, so traffic goes elsewhere.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

State = Literal["ok", "unavailable", "not_configured"]
CHECK_SECONDS = 3.0


def _select_one(request: Request) -> None:
    with request.app.state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def _database(request: Request) -> State:
    try:
        await asyncio.wait_for(run_in_threadpool(_select_one, request), CHECK_SECONDS)
    except Exception:  # any failure to reach it is "unavailable"; the log has no need
        return "unavailable"
    return "ok"


async def _redis(request: Request) -> State:
    if not request.app.state.settings.redis_url:
        return "not_configured"
    try:
        await asyncio.wait_for(request.app.state.backplane.ping(), CHECK_SECONDS)
    except Exception:
        return "unavailable"
    return "ok"


async def components(request: Request) -> dict[str, State]:
    database, redis = await asyncio.gather(_database(request), _redis(request))
    return {"database": database, "redis": redis}


async def healthz(request: Request) -> Response:
    parts = await components(request)
    healthy = "unavailable" not in parts.values()
    return JSONResponse({"status": "ok" if healthy else "degraded", **parts})


async def readyz(request: Request) -> Response:
    parts = await components(request)
    ready = "unavailable" not in parts.values()
    return JSONResponse({"status": "ready" if ready else "not_ready", **parts},
                        status_code=200 if ready else 503)
