"""Helpers for the JSON API tests: demo people by name, bearer headers, error checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.people import Role, Specialty
from storage.demo import DEMO_PASSWORD
from storage.engine import session_scope
from storage.tables import AgendaItem, Conference, SecondOpinionRequest, User
from tests import factories
from tests.factories import id_of

Headers = dict[str, str]


@pytest.fixture
def people(app: Starlette, demo: None) -> dict[str, int]:
    """Demo person ids by the local part of their email: ``people["okafor"]``."""
    with Session(app.state.engine) as session:
        return {u.email.split("@")[0]: u.id or 0 for u in session.exec(select(User))}


@pytest.fixture
def auth(client: TestClient, demo: None) -> Callable[[str], Headers]:
    """``auth("okafor")`` -> bearer headers for that demo person (tokens cached)."""
    cache: dict[str, Headers] = {}

    def headers(who: str) -> Headers:
        if who not in cache:
            email = who if "@" in who else _demo_email(who)
            response = client.post("/api/v1/auth/token",
                                   json={"email": email, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            cache[who] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[who]

    return headers


def _demo_email(local: str) -> str:
    domain = "ridgeview-clinic.example" if local == "hale" else "casebridge.example"
    return f"{local}@{domain}"


@pytest.fixture
def conference_id(app: Starlette, demo: None) -> int:
    with Session(app.state.engine) as session:
        conf = session.exec(select(Conference)).one()
        return conf.id or 0


@pytest.fixture
def item_ids(app: Starlette, conference_id: int) -> list[int]:
    """The demo conference's agenda item ids, in agenda order."""
    with Session(app.state.engine) as session:
        rows = session.exec(select(AgendaItem).where(AgendaItem.conference_id == conference_id)
                            .order_by(col(AgendaItem.position))).all()
        return [id_of(r) for r in rows]


@pytest.fixture
def request_ids(app: Starlette, demo: None) -> dict[str, int]:
    """The demo's two requests: ``scheduled`` and ``submitted``."""
    with Session(app.state.engine) as session:
        rows = session.exec(select(SecondOpinionRequest)).all()
        return {r.status.value: r.id or 0 for r in rows}


@pytest.fixture
def outsider(app: Starlette, demo: None, auth: Callable[[str], Headers]) -> Headers:
    """Bearer headers of a specialist who belongs to no conference."""
    with session_scope(app.state.engine) as session:
        person = factories.user(session, Role.SPECIALIST, Specialty.NEUROSURGERY)
        email = person.email
    with TestClient(app) as other:
        response = other.post("/api/v1/auth/token",
                              json={"email": email, "password": factories.PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def error_of(response: httpx2.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the CONTRACT error body with ``status`` (and ``code``); return ``error``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert "details" in error
    if code is not None:
        assert error["code"] == code, error
    return dict(error)
