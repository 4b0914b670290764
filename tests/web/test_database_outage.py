"""The database goes away under a running server: every API route answers 503
``database_unavailable`` and every page a 503 page, never a 500 with a traceback; when
it is back, the same server answers again by itself. A private PostgreSQL, stopped by
the test (the shared one is never touched)."""

from __future__ import annotations

from starlette.testclient import TestClient

from storage.demo import DEMO_PASSWORD, load_demo
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from tests.servers import private_postgres
from tests.web.conftest import csrf_of, sign_in
from web.app import create_app
from web.settings import Settings


def test_a_database_outage_answers_503_and_recovers() -> None:
    with private_postgres() as pg:
        engine = make_engine(pg.url)
        upgrade(engine)
        with session_scope(engine) as session:
            load_demo(session)
        engine.dispose()
        app = create_app(Settings(database_url=pg.url, secret_key="outage-test-secret"))
        with TestClient(app, raise_server_exceptions=False) as client:
            token = client.post("/api/v1/auth/token", json={
                "email": "coordinator@casebridge.example", "password": DEMO_PASSWORD}
            ).json()["access_token"]
            api = {"Authorization": f"Bearer {token}"}
            sign_in(client, "coordinator@casebridge.example")
            csrf = csrf_of(client.get("/conferences/1").text)
            assert client.get("/api/v1/conferences", headers=api).status_code == 200

            pg.stop()
            for answer in (client.get("/api/v1/conferences", headers=api),
                           client.post("/api/v1/conferences", headers=api, json={
                               "title": "Lost", "starts_at": "2031-01-01T09:00:00Z",
                               "duration_minutes": 60, "chair_id": 3})):
                assert answer.status_code == 503, answer.text
                assert answer.json()["error"]["code"] == "database_unavailable"
                assert answer.headers["Retry-After"] == "5"
            page = client.get("/conferences/1")
            assert page.status_code == 503
            assert "The database cannot be reached just now" in page.text
            assert "Traceback" not in page.text
            posted = client.post("/conferences/1/members", data={
                "csrf_token": csrf, "user_id": "3", "conference_role": "member"})
            assert posted.status_code == 503

            pg.start()
            assert client.get("/api/v1/conferences", headers=api).status_code == 200
            assert client.get("/conferences/1").status_code == 200
        app.state.engine.dispose()
