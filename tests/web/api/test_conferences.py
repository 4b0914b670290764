from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of

CONFS = "/api/v1/conferences"


def new_conference(people: dict[str, int], **changes: Any) -> dict[str, Any]:
    return {"title": "Thursday spine huddle", "starts_at": "2026-12-03T07:30:00-06:00",
            "duration_minutes": 60, "chair_id": people["brooks"], **changes}


def test_conferences_create_returns_it_with_its_chair(client: TestClient,
                                                      auth: Callable[[str], Headers],
                                                      people: dict[str, int]) -> None:
    response = client.post(CONFS, json=new_conference(people), headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int) and body["status"] == "draft"
    assert body["starts_at"] == "2026-12-03T13:30:00+00:00"
    assert [(m["user_id"], m["conference_role"]) for m in body["members"]] == [
        (people["brooks"], "chair")]
    assert body["agenda"] == []


def test_conferences_create_refuses_naive_start(client: TestClient, auth: Callable[[str], Headers],
                                                people: dict[str, int]) -> None:
    response = client.post(CONFS, json=new_conference(people, starts_at="2026-12-03T07:30:00"),
                           headers=auth("coordinator"))
    assert error_of(response, 422, "invalid_input")["details"]["field"] == "starts_at"


def test_conferences_create_validates_fields(client: TestClient, auth: Callable[[str], Headers],
                                             people: dict[str, int]) -> None:
    error = error_of(client.post(CONFS, json=new_conference(people, duration_minutes="60"),
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "duration_minutes"
    error = error_of(client.post(CONFS, json=new_conference(people, chair_id=9999),
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "chair_id"


def test_conferences_create_refused_to_specialist(client: TestClient,
                                                  auth: Callable[[str], Headers],
                                                  people: dict[str, int]) -> None:
    error_of(client.post(CONFS, json=new_conference(people), headers=auth("okafor")), 403)


def test_conferences_create_needs_auth(client: TestClient, people: dict[str, int]) -> None:
    error_of(client.post(CONFS, json=new_conference(people)), 401)


def test_conferences_list_shows_only_your_own(client: TestClient, auth: Callable[[str], Headers],
                                              outsider: Headers, conference_id: int) -> None:
    mine = client.get(CONFS, headers=auth("raman"))
    assert [c["id"] for c in mine.json()] == [conference_id]
    assert client.get(CONFS, headers=outsider).json() == []


def test_conferences_get_has_members_agenda_and_timing(client: TestClient,
                                                       auth: Callable[[str], Headers],
                                                       people: dict[str, int],
                                                       conference_id: int,
                                                       item_ids: list[int]) -> None:
    response = client.get(f"{CONFS}/{conference_id}", headers=auth("lee"))
    assert response.status_code == 200
    body = response.json()
    assert body["members"][0]["user_id"] == people["okafor"]
    assert body["members"][0]["conference_role"] == "chair"
    assert {m["user_id"] for m in body["members"]} >= {people["lee"], people["hale"]}
    agenda = body["agenda"]
    assert [i["id"] for i in agenda] == item_ids
    assert [i["position"] for i in agenda] == list(range(len(agenda)))
    first = agenda[0]
    assert set(first) >= {"id", "case_id", "position", "planned_minutes", "status",
                          "started_at", "ended_at"}
    assert first["status"] == "pending" and first["started_at"] is None
    planned = sum(i["planned_minutes"] for i in agenda)
    assert body["timing"] == {"planned_minutes": planned, "duration_minutes": 90,
                              "over_by": max(0, planned - 90),
                              "remaining": max(0, 90 - planned)}


def test_conferences_get_hidden_from_non_member(client: TestClient, outsider: Headers,
                                                conference_id: int) -> None:
    error_of(client.get(f"{CONFS}/{conference_id}", headers=outsider), 404, "not_found")


def test_conferences_get_unknown_or_malformed_id_is_404(client: TestClient,
                                                        auth: Callable[[str], Headers]) -> None:
    for path in ("999", "abc", "-1", "0", "1.5", "99999999999999999999999"):
        error_of(client.get(f"{CONFS}/{path}", headers=auth("coordinator")), 404)


def test_conferences_get_needs_auth(client: TestClient, conference_id: int) -> None:
    error_of(client.get(f"{CONFS}/{conference_id}"), 401)


def test_conferences_status_moves_along_the_life_cycle(client: TestClient,
                                                       auth: Callable[[str], Headers],
                                                       conference_id: int) -> None:
    url = f"{CONFS}/{conference_id}/status"
    response = client.put(url, json={"status": "draft"}, headers=auth("coordinator"))
    assert response.status_code == 200 and response.json()["status"] == "draft"
    response = client.put(url, json={"status": "published"}, headers=auth("okafor"))
    assert response.json()["status"] == "published"  # the chair may too


def test_conferences_status_illegal_move_conflicts(client: TestClient,
                                                   auth: Callable[[str], Headers],
                                                   conference_id: int) -> None:
    error = error_of(client.put(f"{CONFS}/{conference_id}/status", json={"status": "published"},
                                headers=auth("coordinator")), 409, "illegal_transition")
    assert error["details"] == {"machine": "conference", "from": "published", "to": "published"}


def test_conferences_status_validation_and_roles(client: TestClient, auth: Callable[[str], Headers],
                                                 conference_id: int) -> None:
    url = f"{CONFS}/{conference_id}/status"
    error_of(client.put(url, json={"status": "cancelled"}, headers=auth("coordinator")), 422)
    error_of(client.put(url, json={"status": "draft"}, headers=auth("brooks")), 403)
    error_of(client.put(f"{CONFS}/999/status", json={"status": "draft"},
                        headers=auth("coordinator")), 404)


def test_conferences_members_add(client: TestClient, auth: Callable[[str], Headers],
                                 people: dict[str, int], outsider: Headers, conference_id: int
                                 ) -> None:
    url = f"{CONFS}/{conference_id}/members"
    response = client.post(url, json={"user_id": people["admin"], "conference_role": "member"},
                           headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Avery Admin"
    detail = client.get(f"{CONFS}/{conference_id}", headers=auth("coordinator")).json()
    assert people["admin"] in {m["user_id"] for m in detail["members"]}


def test_conferences_members_add_errors(client: TestClient, auth: Callable[[str], Headers],
                                        people: dict[str, int], conference_id: int) -> None:
    url = f"{CONFS}/{conference_id}/members"
    coord = auth("coordinator")
    error_of(client.post(url, json={"user_id": people["lee"], "conference_role": "member"},
                         headers=coord), 409, "conflict")
    error_of(client.post(url, json={"user_id": people["admin"], "conference_role": "boss"},
                         headers=coord), 422)
    error_of(client.post(url, json={"user_id": people["admin"], "conference_role": "chair"},
                         headers=coord), 422)
    error_of(client.post(url, json={"user_id": people["admin"], "conference_role": "member"},
                         headers=auth("okafor")), 403)
    error_of(client.post(f"{CONFS}/999/members",
                         json={"user_id": people["admin"], "conference_role": "member"},
                         headers=coord), 404)
    error_of(client.post(url, json={"user_id": people["admin"], "conference_role": "member"}),
             401)


def test_conferences_quorum_rule_read_change_and_reset(client: TestClient,
                                                       auth: Callable[[str], Headers],
                                                       conference_id: int) -> None:
    url = f"/api/v1/conferences/{conference_id}/quorum"
    default = client.get(url, headers=auth("lee")).json()
    assert default["custom"] is False and default["chair_required"] is True
    assert set(default["by_outcome"]) == {"surgery_recommended", "co_managed_surgery"}
    assert default["description"][0] == "Every decision needs the chair present."
    rule = {"chair_required": True,
            "always": [{"name": "a physical therapist", "specialties": ["physical_therapy"]}]}
    error_of(client.put(url, json=rule, headers=auth("okafor")), 403)
    changed = client.put(url, json=rule, headers=auth("coordinator"))
    assert changed.status_code == 200, changed.text
    assert changed.json()["custom"] is True and changed.json()["by_outcome"] == {}
    assert "a physical therapist" in changed.json()["description"][0]
    reset = client.delete(url, headers=auth("coordinator")).json()
    assert reset["custom"] is False


def test_conferences_quorum_rule_validation(client: TestClient, auth: Callable[[str], Headers],
                                            conference_id: int) -> None:
    url = f"/api/v1/conferences/{conference_id}/quorum"
    bad: dict[str, Any]
    for bad in ({"always": [{"name": "x", "specialties": []}]},
                {"always": [{"name": "x", "specialties": ["astrology"]}]},
                {"by_outcome": {"amputate": []}}, {"chair_required": "yes"}):
        error_of(client.put(url, json=bad, headers=auth("coordinator")), 422)
    error_of(client.get("/api/v1/conferences/999999/quorum", headers=auth("coordinator")), 404)
