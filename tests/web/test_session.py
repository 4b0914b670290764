from datetime import UTC, datetime

import pytest
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.signin import MAX_FAILURES
from storage import throttle
from tests.web.conftest import csrf_of, sign_in


def test_login_page_has_the_contract_form(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.text
    assert 'name="email"' in html and 'name="password"' in html
    assert 'type="submit"' in html


def test_dashboard_requires_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_sign_in_and_out(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, "okafor@casebridge.example")
    home = client.get("/")
    assert "Weekly multidisciplinary spine conference" in home.text
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_without_csrf_is_refused(client: TestClient, demo: None) -> None:
    sign_in(client, "okafor@casebridge.example")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_wrong_password_keeps_email_and_says_why(client: TestClient, demo: None) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": "okafor@casebridge.example",
                                           "password": "nope", "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401
    assert "do not match" in response.text
    assert 'value="okafor@casebridge.example"' in response.text


def test_empty_sign_in_fields_say_so_both_at_once(client: TestClient, demo: None) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"email": "  ", "password": "",
                                           "csrf_token": csrf_of(page.text)})
    assert response.status_code == 422
    html = response.text
    assert "do not match" not in html
    assert 'data-error-summary' in html and 'role="alert"' in html
    assert '<a href="#f-email">Enter your email address.</a>' in html
    assert '<a href="#f-password">Enter your password.</a>' in html
    assert 'id="f-password" name="password" value=""' in html
    response = client.post("/login", data={"email": "okafor@casebridge.example", "password": "",
                                           "csrf_token": csrf_of(page.text)})
    assert "Enter your password." in response.text and "Enter your email" not in response.text
    assert 'value="okafor@casebridge.example"' in response.text


def _fail_from(app: Starlette, email: str, address: str, times: int) -> None:
    """Failed tries counted as the server counts them, without their slow-down delays."""
    with Session(app.state.engine) as session:
        for _ in range(times):
            throttle.count_attempt(session, email=email, address=address,
                                   now=datetime.now(UTC))
        session.commit()


def test_repeated_failures_stop_that_address_on_that_account(
        client: TestClient, demo: None, app: Starlette) -> None:
    token = csrf_of(client.get("/login").text)
    _fail_from(app, "lee@casebridge.example", "testclient", MAX_FAILURES - 1)
    response = client.post("/login", data={"email": "lee@casebridge.example",
                                           "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    response = client.post("/login", data={"email": "lee@casebridge.example",
                                           "password": "casebridge-demo", "csrf_token": token})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    # The owner, elsewhere, signs in.
    with TestClient(app, client=("198.51.100.7", 50000)) as owner:
        owner_token = csrf_of(owner.get("/login").text)
        response = owner.post("/login", data={"email": "lee@casebridge.example",
                                              "password": "casebridge-demo",
                                              "csrf_token": owner_token},
                              follow_redirects=False)
        assert response.status_code == 303


def test_login_next_is_never_offsite(client: TestClient, demo: None) -> None:
    page = client.get("/login?next=//evil.example.com/")
    response = client.post("/login", data={"email": "okafor@casebridge.example",
                                           "password": "casebridge-demo",
                                           "next": "//evil.example.com/",
                                           "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/login", "/static/css/app.css", "/healthz", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_session_cookie_is_httponly_and_lax(client: TestClient) -> None:
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_error_page_keeps_the_navigation(client: TestClient, demo: None) -> None:
    sign_in(client, "okafor@casebridge.example")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "Sign out" in response.text and "Dr. Amara Okafor" in response.text


def test_failed_sign_in_is_logged_without_the_password(client: TestClient, demo: None,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    page = client.get("/login")
    with caplog.at_level("WARNING", logger="web.auth"):
        client.post("/login", data={"email": "okafor@casebridge.example",
                                    "password": "not-my-password",
                                    "csrf_token": csrf_of(page.text)})
    lines = [r.getMessage() for r in caplog.records if r.name == "web.auth"]
    assert lines and lines[0].startswith("failed sign-in for user ")
    assert not any("not-my-password" in line for line in lines)
