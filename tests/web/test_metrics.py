"""/metrics: Prometheus text for the monitoring system only (loopback, or a token)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from storage.demo import load_demo
from storage.engine import session_scope
from tests.mailbox import smtp_server
from tests.web.conftest import SECRET
from web.app import create_app
from web.settings import Settings, SmtpServer


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_for_loopback_or_a_token_only(database_url: str) -> None:
    with smtp_server() as (box, port):
        settings = Settings(database_url=database_url, secret_key=SECRET,
                            smtp=SmtpServer("127.0.0.1", port, "plain"),
                            metrics_token="scrape-me-0123456789")
        app = create_app(settings)
        with session_scope(app.state.engine) as session:
            load_demo(session)  # mails ten invitations and notices
        with TestClient(app) as remote:
            assert remote.get("/metrics").status_code == 403
            assert remote.get("/metrics", headers={
                "Authorization": "Bearer wrong"}).status_code == 403
            box.wait_for(10)
            remote.get("/login")
            remote.get("/api/v1/conferences")
            answer = remote.get("/metrics", headers={
                "Authorization": "Bearer scrape-me-0123456789"})
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
            figures = _samples(answer.text)
            assert figures[("casebridge_rooms", ())] == 0
            assert figures[("casebridge_connections", ())] == 0
            assert figures[("casebridge_keyframe_requests_total", ())] == 0
            assert figures[("casebridge_outbox_mails", (("status", "sent"),))] == 10
            assert figures[("casebridge_outbox_mails", (("status", "failed"),))] == 0
            assert figures[("casebridge_mail_attempts_total", (("result", "sent"),))] == 10
            assert figures[("casebridge_http_request_seconds_count", (
                ("kind", "page"), ("method", "GET"), ("status", "200")))] == 1
            assert figures[("casebridge_http_request_seconds_count", (
                ("kind", "api"), ("method", "GET"), ("status", "401")))] == 1
        app.state.engine.dispose()
    # Without a token, a loopback client may read it (a sidecar on the same host).
    plain = create_app(Settings(database_url=database_url, secret_key=SECRET))
    with TestClient(plain, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
    with TestClient(plain, client=("10.1.2.3", 40000)) as far:
        assert far.get("/metrics").status_code == 403
    plain.state.engine.dispose()
