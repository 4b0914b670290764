from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from conference.guest_links import OVERRUN_MARGIN
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


def test_guest_links_last_until_the_conference_has_ended(
        client: TestClient, auth: Callable[[str], Headers], item_ids: list[int],
        conference_id: int) -> None:
    """Issue 9 item 3: a link sent a week ahead was dead on the day (48 hours)."""
    conf = client.get(f"/api/v1/conferences/{conference_id}", headers=auth("coordinator")).json()
    link = client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links",
                       json={"name": "Dr. Ortiz"}, headers=auth("coordinator")).json()
    ends = datetime.fromisoformat(conf["starts_at"]) + timedelta(
        minutes=conf["duration_minutes"])
    assert datetime.fromisoformat(link["expires_at"]) == ends + OVERRUN_MARGIN
    assert isinstance(link["id"], int)
    short = client.post(f"/api/v1/agenda-items/{item_ids[2]}/guest-links",
                        json={"name": "Dr. Brief", "expires_in_hours": 1},
                        headers=auth("coordinator")).json()
    assert datetime.fromisoformat(short["expires_at"]) < ends  # an explicit lifetime wins


def test_guest_links_listed_and_revoked(client: TestClient, auth: Callable[[str], Headers],
                                        item_ids: list[int], conference_id: int) -> None:
    made = [client.post(f"/api/v1/agenda-items/{item_ids[i]}/guest-links",
                        json={"name": name}, headers=auth("coordinator")).json()
            for i, name in ((0, "Dr. First"), (2, "Dr. Second"))]
    listed = client.get(f"/api/v1/conferences/{conference_id}/guest-links",
                        headers=auth("coordinator")).json()
    assert [(e["id"], e["name"], e["state"]) for e in listed] == [
        (made[1]["id"], "Dr. Second", "active"), (made[0]["id"], "Dr. First", "active")]
    assert "token" not in listed[0]  # the token is not kept
    case_page = urlsplit(made[0]["url"])
    assert client.get(f"{case_page.path}?{case_page.query}").status_code == 200

    revoked = client.delete(f"/api/v1/guest-links/{made[0]['id']}", headers=auth("coordinator"))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = client.delete(f"/api/v1/guest-links/{made[0]['id']}", headers=auth("coordinator"))
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # changes nothing
    closed = client.get(f"{case_page.path}?{case_page.query}")
    assert closed.status_code == 401 and "withdrawn" in closed.text
    other = urlsplit(made[1]["url"])
    assert client.get(f"{other.path}?{other.query}").status_code == 200  # only that one
    events = client.get("/api/v1/audit", params={"entity": "guest_link", "id": made[0]["id"]},
                        headers=auth("coordinator")).json()
    assert [e["action"] for e in events] == ["created", "revoked"]


def test_guest_links_list_and_revoke_are_for_coordinators(
        client: TestClient, auth: Callable[[str], Headers], item_ids: list[int],
        conference_id: int) -> None:
    link = client.post(f"/api/v1/agenda-items/{item_ids[0]}/guest-links",
                       json={"name": "Dr. First"}, headers=auth("coordinator")).json()
    error_of(client.get(f"/api/v1/conferences/{conference_id}/guest-links",
                        headers=auth("okafor")), 403)
    error_of(client.delete(f"/api/v1/guest-links/{link['id']}", headers=auth("okafor")), 403)
    error_of(client.delete("/api/v1/guest-links/999", headers=auth("coordinator")), 404)


def test_guest_links_signed_before_they_were_stored_are_refused(client: TestClient) -> None:
    from itsdangerous import URLSafeTimedSerializer

    old = URLSafeTimedSerializer(SECRET, salt="casebridge.guest-link").dumps(
        {"cid": 1, "iid": 1, "name": "Old", "exp": 4102444800})
    assert client.get(f"/cases/1?token={old}").status_code == 401


def test_a_guest_reads_the_signed_decision_with_names_not_ids(
        client: TestClient, auth: Callable[[str], Headers], item_ids: list[int],
        people: dict[str, int], conference_id: int) -> None:

    from tests.factories import hold_item

    item = item_ids[0]
    present = [people["okafor"], people["raman"], people["lee"]]
    # The meeting was held, with these three in the room.
    hold_item(client.app, conference_id, item, present)  # type: ignore[arg-type]
    decision = f"/api/v1/agenda-items/{item}/decision"
    saved = client.put(decision, headers=auth("okafor"), json={
        "outcome": "physical_therapy", "rationale": "Plateau; no red flags.",
        "plan": "Six more weeks of PT.", "follow_up_weeks": 6, "present_user_ids": present,
        "responsible_clinician_id": people["lee"], "version": 0})
    assert saved.status_code == 200, saved.text
    assert client.post(f"{decision}/sign", headers=auth("okafor")).status_code == 200
    link = client.post(f"/api/v1/agenda-items/{item}/guest-links", json={"name": "Dr. Ortiz"},
                       headers=auth("coordinator")).json()
    page = client.get(urlsplit(link["url"]).path + f"?token={link['token']}")
    assert page.status_code == 200
    text = page.text
    assert "Dr. Amara Okafor" in text and "Jordan Lee" in text
    assert "#" + str(people["raman"]) not in text
    assert f"<dd>{people['lee']}</dd>" not in text
