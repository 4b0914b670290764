"""Re-timing conferences and the calendars that follow them: the .ics download and
the personal subscription feed, parsed back with icalendar."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from icalendar import Calendar
from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of


def _events(body: bytes) -> list[dict[str, Any]]:
    return [{"uid": str(e["uid"]), "sequence": e.decoded("sequence"), "summary": str(e["summary"]),
             "status": str(e["status"]), "start": e.decoded("dtstart")}
            for e in Calendar.from_ical(body).walk("VEVENT")]


def test_patching_a_published_conference_raises_its_sequence(
        client: TestClient, auth: Callable[[str], Headers], conference_id: int) -> None:
    url = f"/api/v1/conferences/{conference_id}"
    before = client.get(f"/conferences/{conference_id}/invite.ics", headers=auth("lee"))
    assert before.status_code == 200
    assert before.headers["content-type"] == "text/calendar; charset=utf-8"
    [event] = _events(before.content)
    assert event["sequence"] == 0 and event["status"] == "CONFIRMED"
    moved = client.patch(url, headers=auth("coordinator"), json={
        "starts_at": "2026-12-09T07:30:00-06:00", "title": "Spine conference (moved)"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["title"] == "Spine conference (moved)"
    [after] = _events(client.get(f"/conferences/{conference_id}/invite.ics",
                                 headers=auth("lee")).content)
    assert after["uid"] == event["uid"] and after["sequence"] == 1
    assert after["summary"] == "Spine conference (moved)"
    assert after["start"].isoformat() == "2026-12-09T13:30:00+00:00"
    # Nothing changed: nothing to announce.
    same = client.patch(url, headers=auth("coordinator"),
                        json={"title": "Spine conference (moved)"})
    assert same.status_code == 200
    [again] = _events(client.get(f"/conferences/{conference_id}/invite.ics",
                                 headers=auth("lee")).content)
    assert again["sequence"] == 1


def test_patch_refusals(client: TestClient, auth: Callable[[str], Headers],
                        conference_id: int, outsider: Headers) -> None:
    url = f"/api/v1/conferences/{conference_id}"
    error_of(client.patch(url, headers=auth("okafor"), json={"title": "Mine"}), 403)
    error_of(client.patch(url, headers=auth("coordinator"), json={"duration_minutes": 2}), 422)
    error_of(client.patch(url, headers=auth("coordinator"),
                          json={"starts_at": "2026-12-09T07:30:00"}), 422)
    error_of(client.patch(url, headers=auth("coordinator"), json={"chair_id": 3}), 422)
    error_of(client.patch(url, headers=auth("coordinator"), json={"title": "   "}), 422)
    assert client.get(f"/conferences/{conference_id}/invite.ics",
                      headers=outsider).status_code == 404
    assert client.put(f"{url}/status", headers=auth("coordinator"),
                      json={"status": "live"}).status_code in (200, 409)
    if client.get(url, headers=auth("coordinator")).json()["status"] == "live":
        error_of(client.patch(url, headers=auth("coordinator"), json={"title": "Late"}), 409,
                 "conference_under_way")


def test_the_feed_follows_the_person_and_can_be_reset(
        client: TestClient, auth: Callable[[str], Headers], conference_id: int) -> None:
    feed = client.get("/api/v1/users/me/calendar", headers=auth("raman")).json()["url"]
    path = urlsplit(feed).path
    assert path.startswith("/calendar/") and path.endswith(".ics") and len(path) > 40
    client.cookies.clear()
    polled = client.get(path)  # no sign-in: the address is the credential
    assert polled.status_code == 200
    [event] = _events(polled.content)
    assert event["summary"] == "Weekly multidisciplinary spine conference"
    assert b"SPN-" not in polled.content and b"RRC-" not in polled.content  # no patients
    # Cancelled: the feed says so, with a higher sequence.
    assert client.put(f"/api/v1/conferences/{conference_id}/status", headers=auth("coordinator"),
                      json={"status": "closed"}).status_code == 200
    [cancelled] = _events(client.get(path).content)
    assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 1
    fresh = client.post("/api/v1/users/me/calendar/reset", headers=auth("raman")).json()["url"]
    assert fresh != feed
    assert client.get(path).status_code == 404
    assert client.get(urlsplit(fresh).path).status_code == 200
    assert client.get("/calendar/forged.ics").status_code == 404
