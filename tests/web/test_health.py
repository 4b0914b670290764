"""Health and readiness report the database and Redis separately (security issue
item 12: /healthz said ok while the database was down). Private servers, stopped
by the test; the shared ones are never touched."""

from __future__ import annotations

from starlette.testclient import TestClient

from storage.engine import make_engine
from storage.migrate import upgrade
from tests.servers import private_postgres, private_redis
from web.app import create_app
from web.settings import Settings


def test_health_and_readiness_follow_the_database_and_redis() -> None:
    with private_postgres() as pg, private_redis() as rds:
        engine = make_engine(pg.url)
        upgrade(engine)
        engine.dispose()
        app = create_app(Settings(database_url=pg.url, secret_key="health-test-secret",
                                  redis_url=rds.url))
        with TestClient(app) as client:
            assert client.get("/healthz").json() == {
                "status": "ok", "database": "ok", "redis": "ok"}
            assert client.get("/readyz").status_code == 200

            pg.stop()
            health, ready = client.get("/healthz"), client.get("/readyz")
            assert health.status_code == 200  # alive: do not restart every instance
            assert health.json() == {"status": "degraded", "database": "unavailable",
                                     "redis": "ok"}
            assert ready.status_code == 503 and ready.json()["database"] == "unavailable"

            pg.start()
            assert client.get("/readyz").status_code == 200

            rds.stop()
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not_ready", "database": "ok",
                                    "redis": "unavailable"}
            rds.start()
            assert client.get("/readyz").status_code == 200
