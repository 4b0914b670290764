from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage import agenda
from storage.engine import session_scope
from tests.factories import hold_demo
from tests.web.api.conftest import Headers, error_of

# The app's whole path, from request to SQL, on PostgreSQL as well as SQLite.
BOTH_BACKENDS = True


def body(people: dict[str, int], version: int = 0, outcome: str = "surgery_recommended",
         present: tuple[str, ...] = ("okafor", "brooks", "raman"),
         **changes: Any) -> dict[str, Any]:
    return {"outcome": outcome, "rationale": "Stenosis with claudication; two ESIs failed.",
            "plan": "L3-5 decompression; PT from week 2.", "follow_up_weeks": 6,
            "present_user_ids": [people[p] for p in present], "version": version, **changes}


@pytest.fixture
def url(app: Starlette, item_ids: list[int]) -> str:
    hold_demo(app)  # the meeting under way, the panel in the room: decisions can be signed
    return f"/api/v1/agenda-items/{item_ids[1]}/decision"


def test_decisions_draft_created_at_version_one(client: TestClient, auth: Callable[[str], Headers],
                                                people: dict[str, int], url: str) -> None:
    response = client.put(url, json=body(people), headers=auth("brooks"))
    assert response.status_code == 200, response.text
    draft = response.json()
    assert (draft["version"], draft["status"]) == (1, "draft")
    again = client.put(url, json=body(people, version=1, follow_up_weeks=8),
                       headers=auth("raman"))
    assert (again.json()["version"], again.json()["follow_up_weeks"]) == (2, 8)


def test_decisions_get_returns_current_version(client: TestClient, auth: Callable[[str], Headers],
                                               people: dict[str, int], url: str) -> None:
    error_of(client.get(url, headers=auth("lee")), 404, "not_found")
    client.put(url, json=body(people), headers=auth("brooks"))
    response = client.get(url, headers=auth("lee"))
    assert response.status_code == 200 and response.json()["version"] == 1


def test_decisions_get_hidden_from_outsider(client: TestClient, auth: Callable[[str], Headers],
                                            people: dict[str, int], outsider: Headers, url: str
                                            ) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    error_of(client.get(url, headers=outsider), 404)
    error_of(client.get(url), 401)
    error_of(client.get("/api/v1/agenda-items/999/decision", headers=auth("okafor")), 404)


def test_decisions_stale_version_conflicts(client: TestClient, auth: Callable[[str], Headers],
                                           people: dict[str, int], url: str) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    error = error_of(client.put(url, json=body(people, version=0), headers=auth("raman")),
                     409, "stale_version")
    assert error["details"] == {"your_version": 0, "current_version": 1}


def test_decisions_presence_defaults_to_attendance(client: TestClient, app: Starlette,
                                                   auth: Callable[[str], Headers],
                                                   people: dict[str, int],
                                                   item_ids: list[int]) -> None:
    url = f"/api/v1/agenda-items/{item_ids[2]}/decision"
    with session_scope(app.state.engine) as session:
        agenda.record_attendance(session, item_id=item_ids[2],
                                 user_ids=[people["okafor"], people["lee"]])
    payload = body(people)
    del payload["present_user_ids"]
    response = client.put(url, json=payload, headers=auth("brooks"))
    assert response.status_code == 200, response.text
    assert sorted(response.json()["present_user_ids"]) == sorted(
        [people["okafor"], people["lee"]])
    assert response.json()["presence_edited"] is False
    # A third specialist joins later: the saved draft follows the room.
    with session_scope(app.state.engine) as session:
        agenda.record_attendance(session, item_id=item_ids[2], user_ids=[people["raman"]])
    later = client.get(url, headers=auth("brooks")).json()
    assert sorted(later["present_user_ids"]) == sorted(
        [people["okafor"], people["lee"], people["raman"]])


def test_signing_needs_the_meeting_and_a_reason_for_anyone_added_by_hand(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        people: dict[str, int], item_ids: list[int], conference_id: int) -> None:
    url = f"/api/v1/agenda-items/{item_ids[3]}/decision"
    with session_scope(app.state.engine) as session:
        agenda.record_attendance(session, item_id=item_ids[3],
                                 user_ids=[people["okafor"], people["raman"]])
    # Brooks (orthopedic spine) ticked by hand: never recorded in the room.
    saved = client.put(url, json=body(people, present=("okafor", "raman", "brooks")),
                       headers=auth("okafor"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["present_by_hand"] == [people["brooks"]]
    assert saved.json()["presence_edited"] is True
    early = client.post(f"{url}/sign", headers=auth("okafor"))
    assert error_of(early, 409)["code"] == "conference_not_started"
    too_soon = client.put(f"/api/v1/conferences/{conference_id}/status",
                          json={"status": "live"}, headers=auth("okafor"))
    assert too_soon.status_code == 200, too_soon.text  # the demo starts within the hour
    refused = client.post(f"{url}/sign", headers=auth("okafor"))
    assert error_of(refused, 409)["code"] == "attendance_note_required"
    noted = client.put(url, json=body(people, present=("okafor", "raman", "brooks"), version=1,
                                      attendance_note="Dialled in from the OR."),
                       headers=auth("okafor"))
    assert noted.status_code == 200, noted.text
    signed = client.post(f"{url}/sign", headers=auth("okafor"))
    assert signed.status_code == 200, signed.text
    assert signed.json()["present_by_hand"] == [people["brooks"]]
    assert signed.json()["attendance_note"] == "Dialled in from the OR."


def test_decisions_present_must_be_members(client: TestClient, auth: Callable[[str], Headers],
                                           people: dict[str, int], url: str) -> None:
    error = error_of(client.put(url, json={**body(people), "present_user_ids": [1, 9999]},
                                headers=auth("brooks")), 422, "invalid_input")
    assert error["details"]["field"] == "present_user_ids"


def test_decisions_validation(client: TestClient, auth: Callable[[str], Headers],
                              people: dict[str, int], url: str) -> None:
    error_of(client.put(url, json=body(people, outcome="amputate"), headers=auth("brooks")),
             422)
    error_of(client.put(url, json=body(people, rationale=" "), headers=auth("brooks")), 422)
    payload = body(people)
    del payload["version"]
    assert error_of(client.put(url, json=payload, headers=auth("brooks")),
                    422)["details"]["field"] == "version"


def test_decisions_draft_refused_to_guest_and_outsider(client: TestClient,
                                                       auth: Callable[[str], Headers],
                                                       people: dict[str, int], outsider: Headers,
                                                       url: str) -> None:
    error_of(client.put(url, json=body(people), headers=auth("hale")), 403, "forbidden")
    error_of(client.put(url, json=body(people), headers=outsider), 403, "forbidden")
    error_of(client.put(url, json=body(people)), 401)
    error_of(client.put("/api/v1/agenda-items/999/decision", json=body(people),
                        headers=auth("brooks")), 404)


def test_decisions_sign_by_chair_then_immutable(client: TestClient, auth: Callable[[str], Headers],
                                                people: dict[str, int], url: str) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    signed = client.post(url + "/sign", headers=auth("okafor"))
    assert signed.status_code == 200, signed.text
    assert (signed.json()["status"], signed.json()["version"],
            signed.json()["revision"]) == ("signed", 2, 1)
    error_of(client.put(url, json=body(people, version=2), headers=auth("brooks")), 409,
             "decision_signed")
    assert client.get(url, headers=auth("brooks")).json()["status"] == "signed"


def test_decisions_sign_refused_without_quorum(client: TestClient, auth: Callable[[str], Headers],
                                               people: dict[str, int], url: str) -> None:
    client.put(url, json=body(people, present=("okafor", "brooks")), headers=auth("brooks"))
    error = error_of(client.post(url + "/sign", json={}, headers=auth("okafor")), 409,
                     "quorum_not_met")
    assert len(error["details"]["missing"]) == 1
    assert "non-surgical specialist" in error["details"]["missing"][0]
    client.put(url, json=body(people, version=1, present=("brooks", "raman")),
               headers=auth("brooks"))
    error = error_of(client.post(url + "/sign", headers=auth("okafor")), 409, "quorum_not_met")
    assert error["details"]["missing"] == ["the chair"]


def test_decisions_sign_errors(client: TestClient, auth: Callable[[str], Headers],
                               people: dict[str, int], url: str) -> None:
    error_of(client.post(url + "/sign", headers=auth("okafor")), 404)  # nothing drafted
    client.put(url, json=body(people), headers=auth("brooks"))
    error_of(client.post(url + "/sign", headers=auth("brooks")), 403)
    error_of(client.post(url + "/sign", json={"version": 7}, headers=auth("okafor")), 409,
             "stale_version")
    error_of(client.post(url + "/sign", json={"version": "1"}, headers=auth("okafor")), 422)
    error_of(client.post(url + "/sign"), 401)


def test_decisions_amend_adds_a_revision(client: TestClient, auth: Callable[[str], Headers],
                                         people: dict[str, int], url: str) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    client.post(url + "/sign", headers=auth("okafor"))
    response = client.post(url + "/amend", json={"reason": "Plan corrected: L4-5 only.",
                                                 "plan": "L4-5 decompression.", "version": 2},
                           headers=auth("okafor"))
    assert response.status_code == 200, response.text
    amended = response.json()
    assert (amended["version"], amended["revision"]) == (3, 2)
    assert amended["plan"] == "L4-5 decompression."
    assert amended["outcome"] == "surgery_recommended"  # unchanged fields kept
    history = client.get(url + "/history", headers=auth("lee"))
    assert [r["revision"] for r in history.json()] == [1, 2]
    assert history.json()[0]["plan"] == "L3-5 decompression; PT from week 2."


def test_decisions_amend_errors(client: TestClient, auth: Callable[[str], Headers],
                                people: dict[str, int], url: str) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    error_of(client.post(url + "/amend", json={"reason": "x"}, headers=auth("okafor")), 422)
    client.post(url + "/sign", headers=auth("okafor"))
    error_of(client.post(url + "/amend", json={"reason": " "}, headers=auth("okafor")), 422)
    error_of(client.post(url + "/amend", json={"plan": "y"}, headers=auth("okafor")), 422)
    error_of(client.post(url + "/amend", json={"reason": "r", "present_user_ids": [
        people["brooks"]]}, headers=auth("okafor")), 409, "quorum_not_met")
    error_of(client.post(url + "/amend", json={"reason": "r"}, headers=auth("brooks")), 403)
    error_of(client.post("/api/v1/agenda-items/999/decision/amend", json={"reason": "r"},
                         headers=auth("okafor")), 404)
    error_of(client.post(url + "/amend", json={"reason": "r"}), 401)


def test_decisions_history_empty_before_signing(client: TestClient, auth: Callable[[str], Headers],
                                                outsider: Headers, url: str) -> None:
    assert client.get(url + "/history", headers=auth("okafor")).json() == []
    error_of(client.get(url + "/history", headers=outsider), 404)
    error_of(client.get("/api/v1/agenda-items/999/decision/history", headers=auth("okafor")),
             404)
    error_of(client.get(url + "/history"), 401)


def test_decisions_signed_shows_on_the_case(client: TestClient, auth: Callable[[str], Headers],
                                            people: dict[str, int], url: str, item_ids: list[int]
                                            ) -> None:
    client.put(url, json=body(people), headers=auth("brooks"))
    client.post(url + "/sign", headers=auth("okafor"))
    case = client.get("/api/v1/cases/2", headers=auth("coordinator")).json()
    assert case["decision"]["outcome"] == "surgery_recommended"
    assert case["decision"]["version"] == 2
