"""Revocation (security issue items 2 and 3): sign-out, a new password, deactivation
and "sign out everywhere" end every session and token issued before."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_of, sign_in

BOTH_BACKENDS = True
LEE = "lee@casebridge.example"
ADMIN = "admin@casebridge.example"


def token(client: TestClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def lee_id(client: TestClient, headers: dict[str, str]) -> int:
    person_id = client.get("/api/v1/users/me", headers=headers).json()["id"]
    assert isinstance(person_id, int)
    return person_id


def signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def test_a_new_password_revokes_old_tokens_and_cookies(app: Starlette, client: TestClient,
                                                       demo: None) -> None:
    lee = token(client, LEE)
    browser = TestClient(app)
    sign_in(browser, LEE)
    admin = token(client, ADMIN)
    changed = client.patch(f"/api/v1/users/{lee_id(client, lee)}", headers=admin,
                           json={"password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/users/me", headers=lee).status_code == 401
    assert not signed_in(browser)
    assert client.get("/api/v1/users/me",
                      headers=token(client, LEE, "a brand new passphrase")).status_code == 200


def test_a_cookie_saved_before_sign_out_does_not_work_after_it(app: Starlette,
                                                               client: TestClient,
                                                               demo: None) -> None:
    csrf = sign_in(client, LEE)
    saved = dict(client.cookies)
    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    thief = TestClient(app, cookies=saved)
    assert not signed_in(thief)


def test_reactivating_an_account_does_not_revive_old_cookies(app: Starlette,
                                                             client: TestClient,
                                                             demo: None) -> None:
    browser = TestClient(app)
    sign_in(browser, LEE)
    admin = token(client, ADMIN)
    person = lee_id(client, token(client, LEE))
    for active in (False, True):
        response = client.patch(f"/api/v1/users/{person}", headers=admin,
                                json={"active": active})
        assert response.status_code == 200, response.text
    assert not signed_in(browser)
    sign_in(browser, LEE)  # a fresh sign-in works again
    assert signed_in(browser)


def test_sign_out_everywhere_for_oneself_and_by_an_admin(app: Starlette, client: TestClient,
                                                         demo: None) -> None:
    lee = token(client, LEE)
    person = lee_id(client, lee)
    assert client.post("/api/v1/auth/sign-out-everywhere", headers=lee).status_code == 200
    assert client.get("/api/v1/users/me", headers=lee).status_code == 401

    lee = token(client, LEE)
    okafor = token(client, "okafor@casebridge.example")
    refused = client.post(f"/api/v1/users/{person}/sign-out-everywhere", headers=okafor)
    assert refused.status_code == 403
    assert client.get("/api/v1/users/me", headers=lee).status_code == 200
    done = client.post(f"/api/v1/users/{person}/sign-out-everywhere",
                       headers=token(client, ADMIN))
    assert done.status_code == 200
    assert client.get("/api/v1/users/me", headers=lee).status_code == 401


def test_the_admin_page_signs_a_person_out_everywhere(app: Starlette, client: TestClient,
                                                      demo: None) -> None:
    lee = token(client, LEE)
    person = lee_id(client, lee)
    sign_in(client, ADMIN)
    page = client.get(f"/admin/people/{person}")
    assert "Sign out everywhere" in page.text
    response = client.post(f"/admin/people/{person}/sign-out-everywhere",
                           data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 200 and "signed out everywhere" in response.text
    assert client.get("/api/v1/users/me", headers=lee).status_code == 401
