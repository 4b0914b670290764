from collections.abc import Callable

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of

CASE = {"patient_ref": "SPN-2026-0201", "age": 50, "sex": "male", "summary": "Sciatica.",
        "question": "Operate?"}


def new_case(client: TestClient, auth: Callable[[str], Headers]) -> int:
    response = client.post("/api/v1/cases", json=CASE, headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_agenda_add_puts_the_case_last(client: TestClient, auth: Callable[[str], Headers],
                                       conference_id: int, item_ids: list[int]) -> None:
    case_id = new_case(client, auth)
    response = client.post(f"/api/v1/conferences/{conference_id}/agenda",
                           json={"case_id": case_id, "planned_minutes": 12},
                           headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["case_id"], item["position"], item["status"]) == (case_id, len(item_ids),
                                                                    "pending")


def test_agenda_add_errors(client: TestClient, auth: Callable[[str], Headers], conference_id: int
                           ) -> None:
    url = f"/api/v1/conferences/{conference_id}/agenda"
    case_id = new_case(client, auth)
    coord = auth("coordinator")
    error_of(client.post(url, json={"case_id": case_id, "planned_minutes": 0}, headers=coord),
             422)
    error_of(client.post(url, json={"case_id": 9999, "planned_minutes": 10}, headers=coord),
             422)
    error_of(client.post(url, json={"case_id": 1, "planned_minutes": 10}, headers=coord), 409)
    error_of(client.post(url, json={"case_id": case_id, "planned_minutes": 10},
                         headers=auth("okafor")), 403)
    error_of(client.post("/api/v1/conferences/999/agenda",
                         json={"case_id": case_id, "planned_minutes": 10}, headers=coord), 404)
    error_of(client.post(url, json={"case_id": case_id, "planned_minutes": 10}), 401)


def test_agenda_order_sets_positions(client: TestClient, auth: Callable[[str], Headers],
                                     conference_id: int, item_ids: list[int]) -> None:
    order = list(reversed(item_ids))
    response = client.put(f"/api/v1/conferences/{conference_id}/agenda/order",
                          json={"item_ids": order}, headers=auth("coordinator"))
    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()] == order
    detail = client.get(f"/api/v1/conferences/{conference_id}", headers=auth("coordinator"))
    assert [i["id"] for i in detail.json()["agenda"]] == order


def test_agenda_order_must_name_exactly_the_items(client: TestClient,
                                                  auth: Callable[[str], Headers],
                                                  conference_id: int, item_ids: list[int]) -> None:
    url = f"/api/v1/conferences/{conference_id}/agenda/order"
    error = error_of(client.put(url, json={"item_ids": item_ids[1:]},
                                headers=auth("coordinator")), 409, "agenda_mismatch")
    assert error["details"]["missing"] == [item_ids[0]]
    error_of(client.put(url, json={"item_ids": item_ids + item_ids[:1]},
                        headers=auth("coordinator")), 409, "agenda_mismatch")


def test_agenda_order_errors(client: TestClient, auth: Callable[[str], Headers], conference_id: int,
                             item_ids: list[int]) -> None:
    url = f"/api/v1/conferences/{conference_id}/agenda/order"
    error_of(client.put(url, json={"item_ids": "1,2"}, headers=auth("coordinator")), 422)
    error_of(client.put(url, json={"item_ids": item_ids}, headers=auth("okafor")), 403)
    error_of(client.put("/api/v1/conferences/999/agenda/order", json={"item_ids": []},
                        headers=auth("coordinator")), 404)
    error_of(client.put(url, json={"item_ids": item_ids}), 401)


def test_agenda_item_minutes_change(client: TestClient, auth: Callable[[str], Headers],
                                    conference_id: int, item_ids: list[int]) -> None:
    response = client.patch(f"/api/v1/agenda-items/{item_ids[0]}",
                            json={"planned_minutes": 25}, headers=auth("coordinator"))
    assert response.status_code == 200 and response.json()["planned_minutes"] == 25
    detail = client.get(f"/api/v1/conferences/{conference_id}", headers=auth("coordinator"))
    assert detail.json()["agenda"][0]["planned_minutes"] == 25


def test_agenda_item_minutes_errors(client: TestClient, auth: Callable[[str], Headers],
                                    item_ids: list[int]) -> None:
    url = f"/api/v1/agenda-items/{item_ids[0]}"
    error_of(client.patch(url, json={"planned_minutes": 500}, headers=auth("coordinator")), 422)
    error_of(client.patch(url, json={"planned_minutes": 5}, headers=auth("okafor")), 403)
    error_of(client.patch("/api/v1/agenda-items/999", json={"planned_minutes": 5},
                          headers=auth("coordinator")), 404)
    error_of(client.patch(url, json={"planned_minutes": 5}), 401)


def test_agenda_defer(client: TestClient, auth: Callable[[str], Headers], item_ids: list[int]
                      ) -> None:
    url = f"/api/v1/agenda-items/{item_ids[0]}/defer"
    error_of(client.post(url, headers=auth("lee")), 403)
    error_of(client.post(url), 401)
    error_of(client.post("/api/v1/agenda-items/999999/defer", headers=auth("coordinator")), 404)
    response = client.post(url, headers=auth("okafor"))  # the chair
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "deferred" and response.json()["ended_at"]
    again = client.post(url, headers=auth("okafor"))  # deferring twice changes nothing
    assert again.status_code == 200 and again.json() == response.json()
