"""A NUL character is refused where text enters (security issue item 9: it was a 500
on PostgreSQL for sign-in, tokens, case text and conference titles)."""

from __future__ import annotations

from starlette.testclient import TestClient

from storage.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_of, sign_in

BOTH_BACKENDS = True
NUL = "\x00"


def bearer(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_nul_in_an_api_body_is_422_naming_the_field(client: TestClient, demo: None) -> None:
    token = client.post("/api/v1/auth/token",
                        json={"email": f"lee{NUL}@casebridge.example", "password": "x"})
    assert token.status_code == 422 and token.json()["error"]["details"]["field"] == "email"
    coordinator = bearer(client, "coordinator@casebridge.example")
    case = client.post("/api/v1/cases", headers=coordinator, json={
        "patient_ref": "SPN-2026-9999", "age": 60, "sex": "female",
        "summary": f"Back pain{NUL}", "question": "Surgery?"})
    assert case.status_code == 422 and case.json()["error"]["details"]["field"] == "summary"
    conference = client.post("/api/v1/conferences", headers=coordinator, json={
        "title": f"Spine{NUL}", "starts_at": "2030-01-01T08:00:00Z", "duration_minutes": 60,
        "chair_id": 3})
    assert conference.status_code == 422


def test_nul_in_the_sign_in_form_and_page_forms_is_refused(client: TestClient,
                                                           demo: None) -> None:
    page = client.get("/login")
    response = client.post("/login", data={
        "email": f"lee{NUL}@casebridge.example", "password": "whatever",
        "csrf_token": csrf_of(page.text), "next": "/"})
    assert response.status_code == 422 and "NUL" in response.text
    csrf = sign_in(client, "coordinator@casebridge.example")
    created = client.post("/conferences/new", data={
        "csrf_token": csrf, "title": f"Spine{NUL}", "starts_local": "2030-01-01T08:00",
        "timezone": "America/Chicago", "duration_minutes": "60", "chair_id": "3"})
    assert created.status_code == 422
