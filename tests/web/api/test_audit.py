from collections.abc import Callable

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of

AUDIT = "/api/v1/audit"


def test_audit_events_oldest_first(client: TestClient, auth: Callable[[str], Headers]) -> None:
    client.get("/api/v1/cases/1", headers=auth("okafor"))
    response = client.get(AUDIT, params={"entity": "case", "id": 1}, headers=auth("admin"))
    assert response.status_code == 200
    events = response.json()
    assert events[0]["action"] == "created" and events[-1]["action"] == "viewed"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert {"imaging", "agenda_item"} <= {e["entity"] for e in events}


def test_audit_other_entities(client: TestClient, auth: Callable[[str], Headers], conference_id: int
                              ) -> None:
    events = client.get(AUDIT, params={"entity": "conference", "id": conference_id},
                        headers=auth("coordinator")).json()
    assert events[0]["action"] == "created"


def test_audit_refused_to_specialist(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error_of(client.get(AUDIT, params={"entity": "case", "id": 1}, headers=auth("okafor")), 403)
    error_of(client.get(AUDIT, params={"entity": "case", "id": 1}, headers=auth("hale")), 403)


def test_audit_validation(client: TestClient, auth: Callable[[str], Headers]) -> None:
    coord = auth("coordinator")
    error = error_of(client.get(AUDIT, params={"entity": "patient", "id": 1}, headers=coord),
                     422)
    assert error["details"]["field"] == "entity"
    error = error_of(client.get(AUDIT, params={"entity": "case", "id": "one"}, headers=coord),
                     422)
    assert error["details"]["field"] == "id"
    error_of(client.get(AUDIT, params={"entity": "case"}, headers=coord), 422)
    error_of(client.get(AUDIT, params={"entity": "case", "id": 1, "x": 2}, headers=coord), 422)


def test_audit_unknown_record_is_404(client: TestClient, auth: Callable[[str], Headers]) -> None:
    error_of(client.get(AUDIT, params={"entity": "case", "id": 999},
                        headers=auth("coordinator")), 404)


def test_audit_needs_auth(client: TestClient, demo: None) -> None:
    error_of(client.get(AUDIT, params={"entity": "case", "id": 1}), 401)


def test_every_kind_of_record_has_its_trail(client: TestClient,
                                            auth: Callable[[str], Headers]) -> None:
    """Each entity the trail names is asked about without a server error: a record that
    does not exist is 404 for every one of them."""
    from conference.audit import Entity

    for entity in Entity:
        response = client.get(AUDIT, params={"entity": entity.value, "id": 999999},
                              headers=auth("coordinator"))
        error_of(response, 404)
