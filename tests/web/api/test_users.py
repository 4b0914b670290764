from collections.abc import Callable

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of

USERS = "/api/v1/users"
NEW = {"email": "Chen@Casebridge.example", "name": "Dr. Wei Chen", "role": "specialist",
       "specialty": "radiology", "password": "long enough password"}


def test_users_list_for_coordinator(client: TestClient, auth: Callable[[str], Headers]) -> None:
    response = client.get(USERS, headers=auth("coordinator"))
    assert response.status_code == 200
    emails = {u["email"] for u in response.json()}
    assert "okafor@casebridge.example" in emails
    assert all("password_hash" not in u for u in response.json())


def test_users_list_refused_to_specialist(client: TestClient, auth: Callable[[str], Headers]
                                          ) -> None:
    error_of(client.get(USERS, headers=auth("okafor")), 403, "forbidden")


def test_users_list_needs_auth(client: TestClient, demo: None) -> None:
    error_of(client.get(USERS), 401)


def test_users_create_by_admin(client: TestClient, auth: Callable[[str], Headers]) -> None:
    response = client.post(USERS, json=NEW, headers=auth("admin"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "chen@casebridge.example" and body["specialty"] == "radiology"
    assert isinstance(body["id"], int)


def test_users_credentials_set_and_changed(client: TestClient, auth: Callable[[str], Headers]
                                           ) -> None:
    created = client.post(USERS, json={**NEW, "credentials": "MD"}, headers=auth("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["credentials"] == "MD"
    url = f"{USERS}/{created.json()['id']}"
    changed = client.patch(url, json={"credentials": "MD, FRCPC"}, headers=auth("admin"))
    assert changed.json()["credentials"] == "MD, FRCPC"
    kept = client.patch(url, json={"name": "Dr. Wei Chen"}, headers=auth("admin"))
    assert kept.json()["credentials"] == "MD, FRCPC"
    error = error_of(client.patch(url, json={"credentials": "x" * 101}, headers=auth("admin")),
                     422)
    assert error["details"]["field"] == "credentials"


def test_users_create_refused_to_coordinator(client: TestClient, auth: Callable[[str], Headers]
                                             ) -> None:
    error_of(client.post(USERS, json=NEW, headers=auth("coordinator")), 403)


def test_users_create_validation(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error = error_of(client.post(USERS, json={**NEW, "password": "short"},
                                 headers=auth("admin")), 422, "invalid_input")
    assert error["details"]["field"] == "password"
    error = error_of(client.post(USERS, json={**NEW, "specialty": None},
                                 headers=auth("admin")), 422)
    assert error["details"]["field"] == "specialty"


def test_users_create_duplicate_email_conflicts(client: TestClient, auth: Callable[[str], Headers]
                                                ) -> None:
    client.post(USERS, json=NEW, headers=auth("admin"))
    error_of(client.post(USERS, json=NEW, headers=auth("admin")), 409, "conflict")


def test_users_me_needs_auth(client: TestClient, demo: None) -> None:
    error_of(client.get(USERS + "/me"), 401)


def test_users_update_by_admin(client: TestClient, auth: Callable[[str], Headers],
                               people: dict[str, int]) -> None:
    url = f"{USERS}/{people['hale']}"
    response = client.patch(url, json={"role": "specialist", "specialty": "primary_care"},
                            headers=auth("admin"))
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["specialty"]) == (
        "specialist", "primary_care")
    response = client.patch(url, json={"active": False}, headers=auth("admin"))
    assert response.json()["active"] is False
    token = client.post("/api/v1/auth/token", json={"email": "hale@ridgeview-clinic.example",
                                                    "password": "casebridge-demo"})
    error_of(token, 401)


def test_users_update_specialty_null_vs_absent(client: TestClient, auth: Callable[[str], Headers],
                                               people: dict[str, int]) -> None:
    url = f"{USERS}/{people['coordinator']}"
    client.patch(url, json={"specialty": "other"}, headers=auth("admin"))
    kept = client.patch(url, json={"name": "Sam Rivera, RN"}, headers=auth("admin")).json()
    assert kept["specialty"] == "other" and kept["name"] == "Sam Rivera, RN"
    cleared = client.patch(url, json={"specialty": None}, headers=auth("admin")).json()
    assert cleared["specialty"] is None


def test_users_update_password_lets_them_sign_in(client: TestClient, auth: Callable[[str], Headers],
                                                 people: dict[str, int]) -> None:
    client.patch(f"{USERS}/{people['lee']}", json={"password": "a fresh passphrase"},
                 headers=auth("admin"))
    ok = client.post("/api/v1/auth/token", json={"email": "lee@casebridge.example",
                                                 "password": "a fresh passphrase"})
    assert ok.status_code == 200


def test_users_update_refusals(client: TestClient, auth: Callable[[str], Headers],
                               people: dict[str, int]) -> None:
    url = f"{USERS}/{people['okafor']}"
    error_of(client.patch(url, json={"name": "X"}, headers=auth("coordinator")), 403)
    error_of(client.patch(url, json={"name": "X"}), 401)
    error_of(client.patch(f"{USERS}/999999", json={"name": "X"}, headers=auth("admin")), 404)
    error = error_of(client.patch(url, json={"specialty": None}, headers=auth("admin")), 422)
    assert error["details"]["field"] == "specialty"
    error_of(client.patch(url, json={"role": "wizard"}, headers=auth("admin")), 422)
    error = error_of(client.patch(f"{USERS}/{people['admin']}", json={"active": False},
                                  headers=auth("admin")), 422)
    assert "administrator" in error["message"]
