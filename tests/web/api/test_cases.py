from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.factories import hold_demo
from tests.web.api.conftest import Headers, error_of
from web.app import create_app
from web.settings import Settings

CASES = "/api/v1/cases"
CASE: dict[str, Any] = {
    "patient_ref": "SPN-2026-0301", "age": 61, "sex": "female", "urgency": "soon",
    "summary": "L5 radiculopathy for 9 weeks.", "question": "Microdiscectomy or wait?",
    "care_history": [
        {"kind": "medication", "description": "Naproxen", "started_on": "2026-01-05",
         "ended_on": "2026-02-01", "response": "unchanged"},
        {"kind": "physical_therapy", "description": "8 sessions", "started_on": "2026-02-10",
         "ended_on": None, "response": "improved"},
    ],
}
IMAGING = {"url": "https://pacs.example-hospital.org/viewer/study/42", "modality": "MR",
           "study_date": "2026-02-20", "description": "Lumbar MRI",
           "study_instance_uid": "1.2.840.113619.2.55.3"}


def test_cases_create_with_care_history(client: TestClient, auth: Callable[[str], Headers]) -> None:
    response = client.post(CASES, json=CASE, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int) and body["urgency"] == "soon"
    assert [e["kind"] for e in body["care_history"]] == ["medication", "physical_therapy"]
    assert body["care_history"][1]["ended_on"] is None
    assert body["imaging"] == [] and body["decision"] is None


def test_cases_create_refuses_a_name_as_patient_ref(client: TestClient,
                                                    auth: Callable[[str], Headers]) -> None:
    error = error_of(client.post(CASES, json={**CASE, "patient_ref": "Jane Doe"},
                                 headers=auth("coordinator")), 422, "invalid_input")
    assert error["details"]["field"] == "patient_ref"


def test_cases_create_names_the_bad_nested_field(client: TestClient, auth: Callable[[str], Headers]
                                                 ) -> None:
    history = [{**CASE["care_history"][0], "kind": "acupuncture"}]
    error = error_of(client.post(CASES, json={**CASE, "care_history": history},
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "care_history[0].kind"
    history = [{**CASE["care_history"][0], "started_on": "2026-03-01"}]
    error = error_of(client.post(CASES, json={**CASE, "care_history": history},
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "care_history[0].ended_on"


def test_cases_create_lists_every_problem_of_the_case(client: TestClient,
                                                      auth: Callable[[str], Headers]) -> None:
    history = [{**CASE["care_history"][0], "description": " ", "started_on": "2026-03-01"}]
    error = error_of(client.post(CASES, json={**CASE, "patient_ref": "Jane Doe", "question": "",
                                              "care_history": history},
                                 headers=auth("coordinator")), 422, "invalid_input")
    assert error["details"]["field"] == "patient_ref"  # the first, as before
    assert [e["field"] for e in error["details"]["errors"]] == [
        "patient_ref", "question", "care_history[0].description", "care_history[0].ended_on"]


def test_cases_create_refused_to_specialist_and_clinician(client: TestClient,
                                                          auth: Callable[[str], Headers]) -> None:
    error_of(client.post(CASES, json=CASE, headers=auth("okafor")), 403)
    error_of(client.post(CASES, json=CASE, headers=auth("hale")), 403)


def test_cases_create_needs_auth(client: TestClient, demo: None) -> None:
    error_of(client.post(CASES, json=CASE), 401)


def test_cases_get_has_history_imaging_and_decision(client: TestClient,
                                                    auth: Callable[[str], Headers]) -> None:
    response = client.get(f"{CASES}/2", headers=auth("brooks"))
    assert response.status_code == 200
    body = response.json()
    assert body["patient_ref"] == "SPN-2026-0142"
    assert len(body["care_history"]) == 4 and len(body["imaging"]) == 2
    assert body["decision"] is None


def test_cases_get_is_audited(client: TestClient, auth: Callable[[str], Headers]) -> None:
    client.get(f"{CASES}/2", headers=auth("brooks"))
    events = client.get("/api/v1/audit?entity=case&id=2", headers=auth("coordinator")).json()
    viewed = [e for e in events if e["action"] == "viewed"]
    assert viewed and viewed[-1]["actor_id"] == client.get(
        "/api/v1/users/me", headers=auth("brooks")).json()["id"]


def test_cases_get_hidden_from_outsider(client: TestClient, outsider: Headers) -> None:
    error_of(client.get(f"{CASES}/2", headers=outsider), 404, "not_found")


def test_cases_get_unknown_is_404(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error_of(client.get(f"{CASES}/999", headers=auth("coordinator")), 404)
    error_of(client.get(f"{CASES}/x", headers=auth("coordinator")), 404)


def test_cases_get_needs_auth(client: TestClient, demo: None) -> None:
    error_of(client.get(f"{CASES}/2"), 401)


def test_cases_list_only_visible(client: TestClient, auth: Callable[[str], Headers],
                                 outsider: Headers) -> None:
    assert len(client.get(CASES, headers=auth("coordinator")).json()) == 8
    assert client.get(CASES, headers=outsider).json() == []


def test_cases_imaging_added(client: TestClient, auth: Callable[[str], Headers]) -> None:
    response = client.post(f"{CASES}/1/imaging", json=IMAGING, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["url"] == IMAGING["url"] and link["modality"] == "MR"
    case = client.get(f"{CASES}/1", headers=auth("coordinator")).json()
    assert link["id"] in {i["id"] for i in case["imaging"]}


def test_cases_imaging_by_the_referring_clinician_on_own_case(client: TestClient,
                                                              auth: Callable[[str], Headers],
                                                              request_ids: dict[str, int]) -> None:
    own = client.get(f"/api/v1/requests/{request_ids['submitted']}", headers=auth("hale"))
    response = client.post(f"{CASES}/{own.json()['case_id']}/imaging",
                           json={"url": "https://pacs.ridgeview.example/s/1", "modality": "XR"},
                           headers=auth("hale"))
    assert response.status_code == 201, response.text


def test_cases_imaging_unsafe_urls_rejected_with_reason(client: TestClient,
                                                        auth: Callable[[str], Headers]) -> None:
    for url, reason in [("javascript:alert(1)", "scheme_not_allowed"),
                        ("http://pacs.example.org/x", "insecure_scheme"),
                        ("https://user:pw@pacs.example.org/x", "credentials_in_url")]:
        error = error_of(client.post(f"{CASES}/1/imaging", json={**IMAGING, "url": url},
                                     headers=auth("coordinator")), 422, "imaging_link_rejected")
        assert error["details"]["reason"] == reason


def test_cases_imaging_host_allow_list(settings: Settings, demo: None,
                                       auth: Callable[[str], Headers], client: TestClient) -> None:
    token = auth("coordinator")
    strict = create_app(replace(settings, imaging_hosts=frozenset({"pacs.example-hospital.org"})))
    with TestClient(strict) as other:
        ok = other.post(f"{CASES}/1/imaging", json=IMAGING, headers=token)
        assert ok.status_code == 201, ok.text
        refused = other.post(f"{CASES}/1/imaging",
                             json={**IMAGING, "url": "https://elsewhere.example.com/s"},
                             headers=token)
        assert error_of(refused, 422)["details"]["reason"] == "host_not_allowed"
    strict.state.engine.dispose()


def test_cases_imaging_validation(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error = error_of(client.post(f"{CASES}/1/imaging", json={**IMAGING, "modality": "MRI"},
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "modality"
    error = error_of(client.post(f"{CASES}/1/imaging",
                                 json={**IMAGING, "study_instance_uid": "abc"},
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "study_instance_uid"


def test_cases_imaging_refused_to_member_and_hidden_from_outsider(client: TestClient,
                                                                  auth: Callable[[str], Headers],
                                                                  outsider: Headers) -> None:
    error_of(client.post(f"{CASES}/1/imaging", json=IMAGING, headers=auth("okafor")), 403)
    error_of(client.post(f"{CASES}/1/imaging", json=IMAGING, headers=outsider), 404)
    error_of(client.post(f"{CASES}/999/imaging", json=IMAGING, headers=auth("coordinator")), 404)
    error_of(client.post(f"{CASES}/1/imaging", json=IMAGING), 401)


def _new(client: TestClient, auth: Callable[[str], Headers]) -> int:
    response = client.post(CASES, json=CASE, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_cases_patch_corrects_until_signed(client: TestClient, auth: Callable[[str], Headers]
                                           ) -> None:
    case_id = _new(client, auth)
    url = f"{CASES}/{case_id}"
    response = client.patch(url, json={"question": "Fuse L4-5 or decompress only?",
                                       "urgency": "soon"}, headers=auth("coordinator"))
    assert response.status_code == 200, response.text
    assert (response.json()["question"], response.json()["urgency"]) == (
        "Fuse L4-5 or decompress only?", "soon")
    assert response.json()["summary"] == CASE["summary"]  # not sent, not changed
    error_of(client.patch(url, json={"question": ""}, headers=auth("coordinator")), 422)
    error_of(client.patch(url, json={"patient_ref": "X-1"}, headers=auth("coordinator")), 422)
    error_of(client.patch(url, json={"question": "?"}, headers=auth("okafor")), 404)
    error_of(client.patch(url, json={"question": "?"}), 401)
    error_of(client.patch(f"{CASES}/999999", json={"question": "?"},
                          headers=auth("coordinator")), 404)


def test_cases_patch_refused_once_decided(client: TestClient, app: Starlette,
                                          auth: Callable[[str], Headers],
                                          conference_id: int, people: dict[str, int]) -> None:
    hold_demo(app)  # the meeting under way, the panel in the room
    item = client.get(f"/api/v1/conferences/{conference_id}",
                      headers=auth("coordinator")).json()["agenda"][0]
    body = {"outcome": "physical_therapy", "rationale": "ROM plateau", "plan": "PT",
            "follow_up_weeks": 6, "present_user_ids": [people["okafor"]], "version": 0}
    assert client.put(f"/api/v1/agenda-items/{item['id']}/decision", json=body,
                      headers=auth("okafor")).status_code == 200
    assert client.post(f"/api/v1/agenda-items/{item['id']}/decision/sign",
                       headers=auth("okafor")).status_code == 200
    error = error_of(client.patch(f"{CASES}/{item['case_id']}", json={"question": "Else?"},
                                  headers=auth("coordinator")), 409, "case_decided")
    assert "signed decision" in error["message"]


def test_cases_care_history_added(client: TestClient, auth: Callable[[str], Headers]) -> None:
    case_id = _new(client, auth)
    url = f"{CASES}/{case_id}/care-history"
    entry = {"kind": "injection", "description": "L5 transforaminal ESI",
             "started_on": "2026-09-01", "ended_on": "2026-09-01", "response": "improved"}
    response = client.post(url, json=entry, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "injection"
    history = client.get(f"{CASES}/{case_id}", headers=auth("coordinator")).json()["care_history"]
    assert history[-1]["description"] == "L5 transforaminal ESI"
    error_of(client.post(url, json={**entry, "ended_on": "2026-08-01"},
                         headers=auth("coordinator")), 422)
    error_of(client.post(url, json={**entry, "kind": "prayer"}, headers=auth("coordinator")),
             422)
    error_of(client.post(url, json=entry, headers=auth("hale")), 404)


def test_cases_loopback_imaging_link_refused_outside_development(
        client: TestClient, auth: Callable[[str], Headers], settings: Settings) -> None:
    """Security issue item 11: with the default settings a localhost link passed."""
    link = {"url": "http://localhost:8042/viewer?study=1.2.3", "modality": "MR"}
    refused = client.post(f"{CASES}/1/imaging", json=link, headers=auth("coordinator"))
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["reason"] == "insecure_scheme"
    development = create_app(replace(settings, development=True))
    with TestClient(development) as other:
        accepted = other.post(f"{CASES}/1/imaging", json=link, headers=auth("coordinator"))
        assert accepted.status_code == 201, accepted.text
    development.state.engine.dispose()
