from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import SECRET
from web.tokens import TokenSigner


def test_guest_links_scoped_to_one_item(client: TestClient, auth: Callable[[str], Headers],
                                        item_ids: list[int], conference_id: int) -> None:
    response = client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links",
                           json={"name": "Dr. Ines Ortiz", "expires_in_hours": 4},
                           headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    link = response.json()
    url = urlsplit(link["url"])
    assert url.path == "/cases/3"
    assert parse_qs(url.query)["token"] == [link["token"]]
    grant = TokenSigner(SECRET).read_guest(link["token"])
    assert (grant.conference_id, grant.item_id, grant.name) == (conference_id, item_ids[2],
                                                                "Dr. Ines Ortiz")
    assert link["expires_at"].endswith("+00:00")


def test_guest_links_are_audited(client: TestClient, auth: Callable[[str], Headers],
                                 item_ids: list[int]) -> None:
    client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links", json={"name": "Dr. Ortiz"},
                headers=auth("coordinator"))
    events = client.get("/api/v1/audit", params={"entity": "case", "id": 3},
                        headers=auth("coordinator")).json()
    assert events[-1]["detail"]["guest_link"] == "Dr. Ortiz"


def test_guest_links_validation(client: TestClient, auth: Callable[[str], Headers],
                                item_ids: list[int]) -> None:
    url = f"/api/v1/agenda-items/{item_ids[2]}/guest-links"
    error_of(client.post(url, json={}, headers=auth("coordinator")), 422)
    error_of(client.post(url, json={"name": "   "}, headers=auth("coordinator")), 422)
    error = error_of(client.post(url, json={"name": "X", "expires_in_hours": 0},
                                 headers=auth("coordinator")), 422)
    assert error["details"]["field"] == "expires_in_hours"


def test_guest_links_refused_to_chair(client: TestClient, auth: Callable[[str], Headers],
                                      item_ids: list[int]) -> None:
    error_of(client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links", json={"name": "X"},
                         headers=auth("okafor")), 403)


def test_guest_links_unknown_item_and_auth(client: TestClient, auth: Callable[[str], Headers],
                                           item_ids: list[int]) -> None:
    error_of(client.post("/api/v1/agenda-items/999/guest-links", json={"name": "X"},
                         headers=auth("coordinator")), 404)
    error_of(client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links",
                         json={"name": "X"}), 401)
