from collections.abc import Callable

from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.people import Role, Specialty
from storage.engine import session_scope
from tests import factories
from tests.factories import hold_demo
from tests.web.api.conftest import Headers, error_of

# The app's whole path, from request to SQL, on PostgreSQL as well as SQLite.
BOTH_BACKENDS = True

REQUESTS = "/api/v1/requests"
REQUEST = {"patient_ref": "RRC-90001", "age": 47, "sex": "male", "urgency": "urgent",
           "summary": "Foot drop since Monday.", "question": "Does he need surgery today?",
           "care_history": [{"kind": "other", "description": "Rest", "response": "worse"}],
           "requested_specialties": ["neurosurgery"]}


def test_requests_submit_by_referring_clinician(client: TestClient, auth: Callable[[str], Headers]
                                                ) -> None:
    response = client.post(REQUESTS, json=REQUEST, headers=auth("hale"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int) and body["status"] == "submitted"
    assert body["requested_specialties"] == ["neurosurgery"] and body["decision"] is None
    case = client.get(f"/api/v1/cases/{body['case_id']}", headers=auth("hale"))
    assert case.json()["patient_ref"] == "RRC-90001"


def test_requests_submit_validation(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error = error_of(client.post(REQUESTS, json={**REQUEST, "requested_specialties": []},
                                 headers=auth("hale")), 422)
    assert error["details"]["field"] == "requested_specialties"
    payload = dict(REQUEST)
    del payload["requested_specialties"]
    error_of(client.post(REQUESTS, json=payload, headers=auth("hale")), 422)


def test_requests_submit_keeps_the_referrers_own_patient_id(
        client: TestClient, auth: Callable[[str], Headers]) -> None:
    response = client.post(REQUESTS, json={**REQUEST, "referrer_patient_id": " MRN 77-1 "},
                           headers=auth("hale"))
    assert response.status_code == 201, response.text
    assert response.json()["referrer_patient_id"] == "MRN 77-1"
    got = client.get(f"{REQUESTS}/{response.json()['id']}", headers=auth("hale"))
    assert got.json()["referrer_patient_id"] == "MRN 77-1"
    error = error_of(client.post(REQUESTS, json={**REQUEST, "referrer_patient_id": "Jane Doe"},
                                 headers=auth("hale")), 422)
    assert error["details"]["field"] == "referrer_patient_id"
    error = error_of(client.post(REQUESTS, json={**REQUEST, "referrer_patient_id": "9" * 65},
                                 headers=auth("hale")), 422)
    assert error["details"]["field"] == "referrer_patient_id"


def test_requests_submit_refused_to_specialist(client: TestClient, auth: Callable[[str], Headers]
                                               ) -> None:
    error_of(client.post(REQUESTS, json=REQUEST, headers=auth("okafor")), 403)
    error_of(client.post(REQUESTS, json=REQUEST), 401)


def test_requests_list_own_or_all(client: TestClient, auth: Callable[[str], Headers],
                                  request_ids: dict[str, int]) -> None:
    client.post(REQUESTS, json=REQUEST, headers=auth("hale"))
    assert len(client.get(REQUESTS, headers=auth("hale")).json()) == 3
    assert len(client.get(REQUESTS, headers=auth("coordinator")).json()) == 3
    assert client.get(REQUESTS, headers=auth("okafor")).json() == []
    error_of(client.get(REQUESTS), 401)


def test_requests_another_clinicians_request_is_not_found(client: TestClient, app: Starlette,
                                                          auth: Callable[[str], Headers],
                                                          request_ids: dict[str, int]) -> None:
    with session_scope(app.state.engine) as session:
        email = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE).email
    token = client.post("/api/v1/auth/token",
                        json={"email": email, "password": factories.PASSWORD}).json()
    other = {"Authorization": f"Bearer {token['access_token']}"}
    error_of(client.get(f"{REQUESTS}/{request_ids['submitted']}", headers=other), 404)
    assert client.get(REQUESTS, headers=other).json() == []
    ok = client.get(f"{REQUESTS}/{request_ids['submitted']}", headers=auth("hale"))
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"


def test_requests_get_unknown_is_404(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error_of(client.get(f"{REQUESTS}/999", headers=auth("coordinator")), 404)
    error_of(client.get(f"{REQUESTS}/1"), 401)


def test_requests_schedule_puts_the_case_on_the_agenda(client: TestClient,
                                                       auth: Callable[[str], Headers],
                                                       request_ids: dict[str, int],
                                                       conference_id: int) -> None:
    url = f"{REQUESTS}/{request_ids['submitted']}/schedule"
    response = client.post(url, json={"conference_id": conference_id, "planned_minutes": 15},
                           headers=auth("coordinator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "scheduled" and body["accepted_at"] is not None
    agenda = client.get(f"/api/v1/conferences/{conference_id}",
                        headers=auth("coordinator")).json()["agenda"]
    assert agenda[-1]["id"] == body["agenda_item_id"]
    assert agenda[-1]["case_id"] == body["case_id"]


def test_requests_schedule_errors(client: TestClient, auth: Callable[[str], Headers],
                                  request_ids: dict[str, int], conference_id: int) -> None:
    url = f"{REQUESTS}/{request_ids['submitted']}/schedule"
    good = {"conference_id": conference_id, "planned_minutes": 15}
    error_of(client.post(url, json={"planned_minutes": 15}, headers=auth("coordinator")), 422)
    error_of(client.post(url, json={**good, "conference_id": 999},
                         headers=auth("coordinator")), 404)
    error_of(client.post(url, json=good, headers=auth("hale")), 403)
    error_of(client.post(f"{REQUESTS}/999/schedule", json=good, headers=auth("coordinator")),
             404)
    error_of(client.post(f"{REQUESTS}/{request_ids['scheduled']}/schedule", json=good,
                         headers=auth("coordinator")), 409, "illegal_transition")
    error_of(client.post(url, json=good), 401)


def test_requests_accept(client: TestClient, auth: Callable[[str], Headers],
                         request_ids: dict[str, int]) -> None:
    url = f"{REQUESTS}/{request_ids['submitted']}/accept"
    response = client.post(url, headers=auth("coordinator"))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    error_of(client.post(url, headers=auth("coordinator")), 409, "illegal_transition")


def test_requests_accept_errors(client: TestClient, auth: Callable[[str], Headers],
                                request_ids: dict[str, int]) -> None:
    url = f"{REQUESTS}/{request_ids['submitted']}/accept"
    error_of(client.post(url, json={"note": "x"}, headers=auth("coordinator")), 422)
    error_of(client.post(url, headers=auth("hale")), 403)
    error_of(client.post(f"{REQUESTS}/999/accept", headers=auth("coordinator")), 404)
    error_of(client.post(url), 401)


def test_requests_decline_with_reason(client: TestClient, auth: Callable[[str], Headers],
                                      request_ids: dict[str, int]) -> None:
    url = f"{REQUESTS}/{request_ids['submitted']}/decline"
    error_of(client.post(url, json={"reason": "  "}, headers=auth("coordinator")), 422)
    error_of(client.post(url, json={}, headers=auth("coordinator")), 422)
    error_of(client.post(url, json={"reason": "r"}, headers=auth("hale")), 403)
    error_of(client.post(f"{REQUESTS}/999/decline", json={"reason": "r"},
                         headers=auth("coordinator")), 404)
    error_of(client.post(url, json={"reason": "r"}), 401)
    response = client.post(url, json={"reason": "Needs an MRI first."},
                           headers=auth("coordinator"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decline_reason"]) == (
        "declined", "Needs an MRI first.")
    seen = client.get(f"{REQUESTS}/{request_ids['submitted']}", headers=auth("hale")).json()
    assert seen["status"] == "declined"


def test_requests_answered_by_signing_carries_the_decision(client: TestClient, app: Starlette,
                                                           auth: Callable[[str], Headers],
                                                           people: dict[str, int],
                                                           request_ids: dict[str, int]) -> None:
    hold_demo(app)  # the meeting under way, the panel in the room
    request = client.get(f"{REQUESTS}/{request_ids['scheduled']}", headers=auth("hale")).json()
    assert request["status"] == "scheduled" and request["decision"] is None
    url = f"/api/v1/agenda-items/{request['agenda_item_id']}/decision"
    draft = {"outcome": "physical_therapy", "rationale": "Weakness is mild and stable.",
             "plan": "Supervised PT; repeat exam in 2 weeks.", "follow_up_weeks": 2,
             "present_user_ids": [people["okafor"], people["lee"]], "version": 0}
    assert client.put(url, json=draft, headers=auth("lee")).status_code == 200
    assert client.post(url + "/sign", headers=auth("okafor")).status_code == 200
    answered = client.get(f"{REQUESTS}/{request_ids['scheduled']}", headers=auth("hale")).json()
    assert answered["status"] == "answered" and answered["answered_at"] is not None
    assert answered["decision"]["outcome"] == "physical_therapy"
    assert answered["decision"]["plan"] == draft["plan"]
    assert answered["turnaround_hours"] is not None and answered["turnaround_hours"] >= 0
