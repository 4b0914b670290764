"""``/metrics`` in the Prometheus text format, through ``prometheus-client``.

What an operator watches: HTTP latency by kind of request, the live rooms and the
people in them (read from this instance's hub at scrape time), mail sent and failed,
and the outbox backlog (read from the database at scrape time; a database that is
down leaves it out rather than failing the scrape). One registry per app, so two
apps in one process (the tests) never mix their figures.

Only loopback clients may read it, unless CASEBRIDGE_METRICS_TOKEN is set: then
whoever sends ``Authorization: Bearer <token>`` may.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Iterator
from ipaddress import ip_address

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conference.mail import MailStatus
from storage import outbox
from storage.engine import session_scope
from web import logs

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _kind(path: str) -> str:
    """A request's kind, a label of few values (never the path: it holds ids)."""
    for prefix, kind in (("/api/", "api"), ("/static/", "static"), ("/ws/", "socket"),
                         ("/metrics", "metrics"), ("/healthz", "health"),
                         ("/readyz", "health")):
        if path.startswith(prefix):
            return kind
    return "page"


class _Live(Collector):
    """The hub's rooms, read when scraped; and the outbox counts the endpoint read."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.backlog: dict[MailStatus, int] | None = None

    def collect(self) -> Iterator[Metric]:
        rooms = dict(self.app.state.hub.rooms)
        yield GaugeMetricFamily("casebridge_rooms", "Live rooms hosted by this instance",
                                value=len(rooms))
        yield GaugeMetricFamily("casebridge_connections",
                                "Open room sockets on this instance",
                                value=sum(len(r.connections) for r in rooms.values()))
        yield GaugeMetricFamily("casebridge_media_peers",
                                "Participants with a peer connection to this instance",
                                value=sum(len(r.media) for r in rooms.values()))
        yield GaugeMetricFamily("casebridge_forwarded_streams",
                                "Tracks forwarded to subscribers by this instance now",
                                value=sum(r.router.forwarded_streams() for r in rooms.values()))
        hub = self.app.state.hub
        yield CounterMetricFamily(
            "casebridge_forwarded_bytes",
            "Media payload bytes forwarded to subscribers (rate() x 8: bits per second)",
            value=hub.bytes_forwarded)
        yield CounterMetricFamily(
            "casebridge_reconnections",
            "Joins that took over the same person's earlier socket in a room",
            value=hub.reconnections)
        yield CounterMetricFamily(
            "casebridge_keyframe_requests", "Keyframe requests (PLI) sent to publishers",
            value=self.app.state.hub.keyframe_requests)
        yield CounterMetricFamily(
            "casebridge_queue_overflows",
            "Room sockets closed (4408) for falling too far behind their messages",
            value=self.app.state.hub.queue_overflows)
        if self.backlog is not None:
            mails = GaugeMetricFamily("casebridge_outbox_mails", "Mails in the outbox",
                                      labels=["status"])
            for status, count in self.backlog.items():
                mails.add_metric([status.value], count)
            yield mails


class Metrics:
    """One app's figures."""

    def __init__(self, app: Starlette) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = Histogram(
            "casebridge_http_request_seconds", "HTTP requests by kind, method and status",
            ["kind", "method", "status"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.mail = Counter("casebridge_mail_attempts", "Mail sending attempts by result",
                            ["result"], registry=self.registry)
        self.signaling = Histogram(
            "casebridge_signaling_message_seconds",
            "Time to handle one signaling message in a room hosted here",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        app.state.hub.message_seconds = self.signaling.observe
        self.live = _Live(app)
        self.registry.register(self.live)

    def mail_result(self, result: str) -> None:
        """``sent``, ``retry`` or ``failed``: counted by the mail sender."""
        self.mail.labels(result).inc()


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
request_log = logging.getLogger("casebridge.request")


class HttpTiming:
    """Times every HTTP request into the app's histogram, gives it a request id
    (``X-Request-ID``), and with JSON logs writes one line for it (ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        given = Headers(scope=scope).get("x-request-id", "")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = logs.request_id.set(rid)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", rid)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took = time.perf_counter() - start
            app = scope["app"]
            metrics: Metrics = app.state.metrics
            metrics.http.labels(_kind(scope["path"]), scope["method"], str(status)).observe(took)
            if app.state.settings.json_logs:
                request_log.info("%s %s %s", scope["method"], logs.redact(scope["path"]),
                                 status, extra={
                                     "method": scope["method"], "status": status,
                                     "path": logs.redact(scope["path"]),
                                     "duration_ms": round(took * 1000, 1)})
            logs.request_id.reset(token)


def _allowed(request: Request) -> bool:
    token: str | None = request.app.state.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _backlog(app: Starlette) -> dict[MailStatus, int] | None:
    try:
        with session_scope(app.state.engine) as session:
            return outbox.counts(session)
    except SQLAlchemyError:
        return None


async def metrics_endpoint(request: Request) -> Response:
    if not _allowed(request):
        return PlainTextResponse("Metrics are for the monitoring system only.\n",
                                 status_code=403)
    metrics: Metrics = request.app.state.metrics
    metrics.live.backlog = await run_in_threadpool(_backlog, request.app)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics_endpoint)]
