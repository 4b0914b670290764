"""A referring clinician who is a guest member of the conference (Dr. Hale, invited for
her own patient) opens her own requests' cases only: API, pages, dashboard, room,
search (issue 9, item 2)."""

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import sign_in

HALE = "hale@ridgeview-clinic.example"
OTHER, OWN = 1, 7  # SPN-2026-0117 (another referrer's), RRC-88412 (hers)


def test_the_api_opens_her_own_case_only(client: TestClient, auth: Callable[[str], Headers],
                                         conference_id: int, people: dict[str, int]) -> None:
    assert client.get(f"/api/v1/cases/{OWN}", headers=auth("hale")).status_code == 200
    error_of(client.get(f"/api/v1/cases/{OTHER}", headers=auth("hale")), 404)
    error_of(client.get(f"/api/v1/cases/{OTHER}/messages", headers=auth("hale")), 404)
    error_of(client.get(f"/api/v1/cases/{OTHER}/outcomes", headers=auth("hale")), 404)
    conf = client.get(f"/api/v1/conferences/{conference_id}", headers=auth("hale")).json()
    assert [i["case_id"] for i in conf["agenda"]] == [OWN]
    assert {m["user_id"] for m in conf["members"]} == {people["okafor"], people["hale"]}
    listed = client.get("/api/v1/cases", headers=auth("hale"))
    assert {c["id"] for c in listed.json()} == {OWN, 8}  # her two requests
    assert client.get("/api/v1/search?q=stenosis", headers=auth("hale")).json() == []
    # A member still sees the whole agenda.
    full = client.get(f"/api/v1/conferences/{conference_id}", headers=auth("raman")).json()
    assert len(full["agenda"]) == 7


def test_the_pages_show_her_own_item_and_time_only(client: TestClient, app: Starlette,
                                                   demo: None, conference_id: int) -> None:
    sign_in(client, HALE)
    assert client.get(f"/cases/{OTHER}").status_code == 404
    assert client.get(f"/cases/{OWN}").status_code == 200
    page = client.get(f"/conferences/{conference_id}").text
    assert "RRC-88412" in page and "SPN-2026-0117" not in page
    assert "Your patient on this agenda" in page
    assert "minutes planned" not in page and "shorten cases" not in page
    assert 'id="members"' not in page
    dashboard = client.get("/").text
    assert "SPN-2026-0117" not in dashboard and "7 to pre-read" not in dashboard
    room = client.get(f"/conferences/{conference_id}/room").text
    assert room.count('class="case-brief"') == 1 and "SPN-2026-0117" not in room
    panel = client.get(f"/conferences/{conference_id}/room/agenda").text
    assert "SPN-2026-0117" not in panel
    assert "SPN-2026-0117" not in client.get("/search?q=plateaued").text
