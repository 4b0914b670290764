from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.signin import MAX_FAILURES
from storage import throttle
from storage.demo import DEMO_PASSWORD
from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import sign_in

TOKEN = "/api/v1/auth/token"
COORD = "coordinator@casebridge.example"


def test_token_issued_for_right_password(client: TestClient, demo: None) -> None:
    response = client.post(TOKEN, json={"email": COORD, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    assert body["expires_at"].endswith("+00:00")


def test_token_bearer_flow_identifies_the_caller(client: TestClient, demo: None) -> None:
    token = client.post(TOKEN, json={"email": COORD, "password": DEMO_PASSWORD}).json()
    me = client.get("/api/v1/users/me",
                    headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == COORD and me.json()["role"] == "coordinator"


def test_token_refused_for_wrong_password(client: TestClient, demo: None) -> None:
    response = client.post(TOKEN, json={"email": COORD, "password": "not the password"})
    error_of(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_refused_for_unknown_person(client: TestClient, demo: None) -> None:
    response = client.post(TOKEN, json={"email": "nobody@x.example", "password": "whatever1"})
    error_of(response, 401, "not_authenticated")


def test_token_refused_address_is_429_and_unknown_accounts_alike(
        client: TestClient, demo: None, app: Starlette) -> None:
    answers = []
    for email in ("lee@casebridge.example", "nobody@casebridge.example"):
        with Session(app.state.engine) as session:
            for _ in range(MAX_FAILURES - 1):  # counted as the server does, minus the delays
                throttle.count_attempt(session, email=email, address="testclient",
                                       now=datetime.now(UTC))
            session.commit()
        wrong = client.post(TOKEN, json={"email": email, "password": "wrong!"})
        error_of(wrong, 401)
        refused = client.post(TOKEN, json={"email": email, "password": DEMO_PASSWORD})
        error_of(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) > 60
        answers.append((wrong.json(), refused.json()))
    assert answers[0] == answers[1]  # nothing tells an account from no account


def test_token_validation_error_names_the_missing_field(client: TestClient, demo: None) -> None:
    error = error_of(client.post(TOKEN, json={"email": COORD}), 422, "invalid_input")
    assert error["details"]["field"] == "password"


def test_token_bad_json_is_400(client: TestClient, demo: None) -> None:
    response = client.post(TOKEN, content=b"email=x&password=y",
                           headers={"Content-Type": "application/json"})
    error_of(response, 400, "bad_json")


def test_bearer_invalid_token_is_401(client: TestClient, demo: None) -> None:
    response = client.get("/api/v1/conferences", headers={"Authorization": "Bearer forged"})
    error_of(response, 401, "not_authenticated")


def test_no_credentials_is_401(client: TestClient, demo: None) -> None:
    error_of(client.get("/api/v1/conferences"), 401, "not_authenticated")


def test_cookie_session_reads_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, COORD)
    assert client.get("/api/v1/conferences").status_code == 200


def test_csrf_cookie_write_without_token_is_refused(client: TestClient, demo: None,
                                                    people: dict[str, int], conference_id: int
                                                    ) -> None:
    sign_in(client, COORD)
    response = client.post(f"/api/v1/conferences/{conference_id}/members",
                           json={"user_id": people["admin"], "conference_role": "guest"})
    error_of(response, 403, "csrf_failed")


def test_csrf_cookie_write_with_token_succeeds(client: TestClient, demo: None,
                                               people: dict[str, int], conference_id: int) -> None:
    csrf = sign_in(client, COORD)
    response = client.post(f"/api/v1/conferences/{conference_id}/members",
                           json={"user_id": people["admin"], "conference_role": "guest"},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    assert response.json()["conference_role"] == "guest"


def test_csrf_wrong_token_is_refused(client: TestClient, demo: None, people: dict[str, int],
                                     conference_id: int) -> None:
    sign_in(client, COORD)
    response = client.post(f"/api/v1/conferences/{conference_id}/members",
                           json={"user_id": people["admin"], "conference_role": "guest"},
                           headers={"X-CSRF-Token": "forged"})
    error_of(response, 403, "csrf_failed")


def test_csrf_not_needed_with_bearer_token(client: TestClient, auth: Callable[[str], Headers],
                                           people: dict[str, int], conference_id: int) -> None:
    response = client.post(f"/api/v1/conferences/{conference_id}/members",
                           json={"user_id": people["admin"], "conference_role": "guest"},
                           headers=auth("coordinator"))
    assert response.status_code == 201, response.text
