"""Single sign-on against a real OpenID provider (oidc-provider under node): the whole
authorization-code flow with PKCE, and every refusal the issue names."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.audit import AuditAction
from storage.tables import AuditEvent, User
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, identity_provider, log_in
from tests.ports import free_port
from tests.web.conftest import SECRET
from web.app import create_app
from web.settings import OidcClient, Settings

CALLBACK = "http://testserver/auth/oidc/callback"


@pytest.fixture
def provider_env() -> dict[str, str]:
    return {}


@pytest.fixture
def provider(provider_env: dict[str, str]) -> Iterator[Provider]:
    with identity_provider(CALLBACK, **provider_env) as running:
        yield running


def _settings(database_url: str, issuer: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, oidc=OidcClient(
        issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        name="Ridgeview Health sign-in"))


@pytest.fixture
def settings(database_url: str, provider: Provider) -> Settings:
    return _settings(database_url, provider.issuer)


def _start(client: TestClient, next_url: str = "/") -> str:
    response = client.get(f"/auth/oidc/login?next={next_url}", follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def _finish(client: TestClient, callback: str) -> httpx2.Response:
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _who(client: TestClient) -> str:
    page = client.get("/", follow_redirects=False)
    return "nobody" if page.status_code != 200 else (
        "okafor" if "Dr. Amara Okafor" in page.text else "someone else")


def test_signing_in_with_the_hospital_account(client: TestClient, app: Starlette, demo: None,
                                              provider: Provider) -> None:
    login = client.get("/login")
    assert 'href="/auth/oidc/login"' in login.text
    assert "Sign in with Ridgeview Health sign-in" in login.text
    authorize = _start(client, "/conferences")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{provider.issuer}/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [CALLBACK]
    callback = log_in(authorize, "okafor", CALLBACK)
    done = _finish(client, callback)
    assert done.status_code == 303 and done.headers["location"] == "/conferences"
    assert _who(client) == "okafor"
    with Session(app.state.engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.SIGNED_IN).order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None and event.detail == {"method": "single sign-on"}
    # Password sign-in stays, and so do API tokens.
    assert client.post("/api/v1/auth/token", json={
        "email": "okafor@casebridge.example", "password": "casebridge-demo"}).status_code in (
        200, 401)


def test_an_address_in_other_letters_is_the_same_person(client: TestClient, demo: None,
                                                        provider: Provider) -> None:
    _finish(client, log_in(_start(client), "shouting", CALLBACK))
    assert _who(client) == "okafor"


def test_a_wrong_state_is_refused(client: TestClient, demo: None, provider: Provider,
                                  caplog: pytest.LogCaptureFixture) -> None:
    callback = log_in(_start(client), "okafor", CALLBACK)
    forged = callback.replace("state=", "state=forged")
    refused = _finish(client, forged)
    assert refused.status_code == 400
    assert "could not be completed" in refused.text
    assert _who(client) == "nobody"
    assert "mismatching_state" in caplog.text


def test_a_code_used_twice_is_refused(client: TestClient, demo: None, provider: Provider,
                                      caplog: pytest.LogCaptureFixture) -> None:
    callback = log_in(_start(client), "okafor", CALLBACK)
    before = dict(client.cookies)  # the session that still holds the state
    assert _finish(client, callback).status_code == 303
    client.cookies.clear()
    for name, value in before.items():
        client.cookies.set(name, value)
    replay = _finish(client, callback)
    assert replay.status_code == 400
    assert _who(client) == "nobody"
    assert "invalid_grant" in caplog.text


@pytest.mark.parametrize(("provider_env", "reason"), [
    ({"WRONG_JWKS": "1"}, "bad_signature"),  # signed with a key the JWKS does not hold
    ({"ID_TOKEN_TTL": "60", "CLOCK_SHIFT": "-600"}, "expired_token"),  # ten minutes old
], ids=["bad-signature", "expired"])
def test_an_id_token_that_does_not_check_out_is_refused(
        client: TestClient, demo: None, provider: Provider, reason: str,
        caplog: pytest.LogCaptureFixture) -> None:
    refused = _finish(client, log_in(_start(client), "okafor", CALLBACK))
    assert refused.status_code == 400
    assert _who(client) == "nobody"
    assert reason in caplog.text


@pytest.mark.parametrize(("login", "words"), [
    ("unverified", "has not verified brooks@casebridge.example"),
    ("stranger", "There is no active Casebridge account for stranger@elsewhere.example"),
])
def test_unverified_or_unknown_addresses_are_refused(client: TestClient, app: Starlette,
                                                     demo: None, provider: Provider,
                                                     login: str, words: str) -> None:
    refused = _finish(client, log_in(_start(client), login, CALLBACK))
    assert refused.status_code == 403
    assert words in refused.text
    assert _who(client) == "nobody"
    with Session(app.state.engine) as session:
        assert not session.exec(select(User).where(
            User.email == "stranger@elsewhere.example")).first()


def test_a_switched_off_account_is_refused(client: TestClient, app: Starlette, demo: None,
                                           provider: Provider) -> None:
    with Session(app.state.engine) as session:
        okafor = session.exec(select(User).where(
            User.email == "okafor@casebridge.example")).one()
        okafor.active = False
        session.add(okafor)
        session.commit()
    refused = _finish(client, log_in(_start(client), "okafor", CALLBACK))
    assert refused.status_code == 403
    assert _who(client) == "nobody"


def test_an_unreachable_provider_and_no_provider(database_url: str) -> None:
    app = create_app(_settings(database_url, f"http://127.0.0.1:{free_port()}"))
    with TestClient(app, base_url="http://testserver") as client:
        down = client.get("/auth/oidc/login", follow_redirects=False)
        assert down.status_code == 503 and "cannot be reached" in down.text
    app.state.engine.dispose()
    plain = create_app(Settings(database_url=database_url, secret_key=SECRET))
    with TestClient(plain, base_url="http://testserver") as client:
        assert client.get("/auth/oidc/login").status_code == 404
        assert "/auth/oidc/login" not in client.get("/login").text
    plain.state.engine.dispose()
