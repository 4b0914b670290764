"""A case already on one agenda offered for another: a warning, and each decision says
which meeting it belongs to (issue 9, item 13)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers
from tests.web.conftest import csrf_of, sign_in

CASE = 2  # SPN-2026-0142, on the demo agenda, undecided


def _second_conference(client: TestClient, auth: Callable[[str], Headers],
                       people: dict[str, int]) -> int:
    made = client.post("/api/v1/conferences", headers=auth("coordinator"), json={
        "title": "January spine conference",
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "duration_minutes": 60, "chair_id": people["brooks"]})
    conf: int = made.json()["id"]
    return conf


def test_the_api_names_the_other_agenda(client: TestClient, auth: Callable[[str], Headers],
                                        people: dict[str, int], conference_id: int) -> None:
    other = _second_conference(client, auth, people)
    added = client.post(f"/api/v1/conferences/{other}/agenda", headers=auth("coordinator"),
                        json={"case_id": CASE, "planned_minutes": 10})
    assert added.status_code == 201, added.text
    also = added.json()["also_on"]
    assert [(a["conference_id"], a["title"]) for a in also] == [
        (conference_id, "Weekly multidisciplinary spine conference")]
    fresh = client.post(f"/api/v1/conferences/{other}/agenda", headers=auth("coordinator"),
                        json={"case_id": 8, "planned_minutes": 10})
    assert fresh.json()["also_on"] == []


def test_the_page_asks_before_a_second_agenda_and_labels_each_decision(
        client: TestClient, auth: Callable[[str], Headers], people: dict[str, int],
        demo: None) -> None:
    other = _second_conference(client, auth, people)
    sign_in(client, "coordinator@casebridge.example")
    page = client.get(f"/conferences/{other}").text
    form = {"csrf_token": csrf_of(page), "case_id": str(CASE), "planned_minutes": "10"}
    warned = client.post(f"/conferences/{other}/agenda", data=form)
    assert warned.status_code == 409
    assert "already on another agenda, not yet decided: Weekly multidisciplinary" in warned.text
    assert 'name="also_on_confirmed"' in warned.text
    assert f'<option value="{CASE}" selected' in warned.text  # nothing lost
    assert "SPN-2026-0142" not in client.get(f"/conferences/{other}").text.split(
        'class="agenda"')[1].split("</ol>")[0]
    added = client.post(f"/conferences/{other}/agenda",
                        data={**form, "also_on_confirmed": "1"}, follow_redirects=True)
    assert "The case is on the agenda." in added.text
    case = client.get(f"/cases/{CASE}").text
    assert case.count('<h2 id="dh-') == 2
    assert "Weekly multidisciplinary spine conference</a>" in case
    assert "January spine conference</a>" in case
