from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage.demo import DEMO_PASSWORD, load_demo
from storage.engine import session_scope
from tests.servers import Orthanc, private_orthanc
from web.app import create_app
from web.settings import Settings

SECRET = "test-secret-key-not-for-production"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET)


@pytest.fixture(scope="module")
def orthanc() -> Iterator[Orthanc]:
    """A private image archive for the module's DICOMweb tests (tests.archive)."""
    with private_orthanc() as server:
        yield server


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def demo(app: Starlette) -> None:
    with session_scope(app.state.engine) as session:
        load_demo(session)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = DEMO_PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": csrf_of(page.text), "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
