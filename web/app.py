"""The Starlette application: pages, the JSON API, the signaling socket, static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from signaling.bus import open_backplane
from signaling.hub import Hub
from storage.engine import make_engine, session_scope
from storage.search_index import ensure_indexed
from web.errors import EXCEPTION_HANDLERS
from web.live import DatabaseRoomStore, ice_servers
from web.mailer import sender_for
from web.metrics import HttpTiming, Metrics
from web.security import SecurityHeaders
from web.settings import Settings, load_settings
from web.sso import client_for
from web.sweeper import run as run_sweeper
from web.tokens import TokenSigner

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "casebridge_session"


def _routes() -> list[BaseRoute]:
    from web import api, health, live, metrics, sso
    from web.fhir import routes as fhir
    from web.pages.routes import routes as pages

    return [
        *live.routes,
        *pages,
        *sso.routes,
        *metrics.routes,
        Mount("/api/v1", routes=api.routes),
        *fhir.routes,
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]


def _index_search(app: Starlette) -> None:
    """Cases from before the search index existed get their documents, once. A
    database that is down now must not stop the app: they are indexed next start."""
    try:
        with session_scope(app.state.engine) as session:
            ensure_indexed(session)
    except SQLAlchemyError:
        log.warning("could not index cases for search at startup", exc_info=True)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; the database must already be migrated (``casebridge db upgrade``)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()  # where room events are published
        await asyncio.to_thread(_index_search, app)
        await app.state.hub.start()  # relayed sockets, and a share of new rooms
        tasks = [asyncio.create_task(run_sweeper(app), name="sweeper")]
        if app.state.mailer is not None:
            tasks.append(asyncio.create_task(app.state.mailer.run(), name="mailer"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # Every room closed: sockets, peer connections, room ownership.
            await app.state.hub.close()
            await app.state.backplane.aclose()
            app.state.engine.dispose()

    app = Starlette(
        routes=_routes(),
        middleware=[
            Middleware(HttpTiming),
            Middleware(SecurityHeaders),
            Middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie=SESSION_COOKIE, same_site="lax",
                       https_only=settings.secure_cookies, max_age=12 * 3600),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.signer = TokenSigner(settings.secret_key)
    app.state.backplane = open_backplane(settings.redis_url)
    app.state.hub = Hub(store=DatabaseRoomStore(app.state.engine,
                                                live_window=settings.live_window),
                        ice_servers=ice_servers(settings.ice_servers),
                        backplane=app.state.backplane, capacity=settings.room_capacity,
                        forwarding=settings.forwarding, turn=settings.turn,
                        ice_transport_policy=settings.ice_transport_policy)
    app.state.metrics = Metrics(app)
    app.state.mailer = sender_for(app, settings)
    app.state.oidc = client_for(settings.oidc) if settings.oidc else None
    return app
