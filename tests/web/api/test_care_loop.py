"""Follow-ups and post-operative handoffs: made by signing, worked through the API."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage.tables import AgendaItem
from tests.factories import hold_item
from tests.web.api.conftest import Headers, error_of

BOTH_BACKENDS = True  # outcomes, follow-ups and search on SQLite and PostgreSQL


def _sign(client: TestClient, auth: Callable[[str], Headers], item_id: int, outcome: str,
          weeks: int, present: list[int], responsible: int | None = None) -> None:
    url = f"/api/v1/agenda-items/{item_id}/decision"
    saved = client.put(url, headers=auth("okafor"), json={
        "outcome": outcome, "rationale": "Reviewed together.", "plan": "As discussed.",
        "follow_up_weeks": weeks, "present_user_ids": present,
        "responsible_clinician_id": responsible, "version": 0})
    assert saved.status_code == 200, saved.text
    signed = client.post(f"{url}/sign", headers=auth("okafor"))
    assert signed.status_code == 200, signed.text


def test_a_signed_follow_up_comes_back_on_a_later_agenda(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        conference_id: int, item_ids: list[int], people: dict[str, int]) -> None:
    item = item_ids[0]
    present = [people["okafor"], people["lee"]]
    hold_item(app, conference_id, item, present)
    _sign(client, auth, item, "physical_therapy", 6, present)
    due = date.today() + timedelta(weeks=6)
    listed = client.get("/api/v1/follow-ups", headers=auth("coordinator")).json()
    assert [(f["due_on"], f["outcome"], f["status"]) for f in listed] == [
        (str(due), "physical_therapy", "due")]
    assert client.get(f"/api/v1/follow-ups?due_before={date.today()}",
                      headers=auth("coordinator")).json() == []
    error_of(client.get("/api/v1/follow-ups", headers=auth("okafor")), 403)
    error_of(client.get("/api/v1/follow-ups?due_before=soon", headers=auth("coordinator")),
             422)
    # Back on a later conference as a new item.
    later = client.post("/api/v1/conferences", headers=auth("coordinator"), json={
        "title": "Follow-up conference", "starts_at": f"{due}T07:00:00-06:00",
        "duration_minutes": 60, "chair_id": people["okafor"]}).json()
    follow = listed[0]["id"]
    scheduled = client.post(f"/api/v1/follow-ups/{follow}/schedule",
                            headers=auth("coordinator"),
                            json={"conference_id": later["id"], "planned_minutes": 10})
    assert scheduled.status_code == 201, scheduled.text
    returning = scheduled.json()["id"]
    with Session(app.state.engine) as session:
        new_item = session.get(AgendaItem, returning)
        assert new_item is not None and new_item.case_id == listed[0]["case_id"]
    again = client.post(f"/api/v1/follow-ups/{follow}/schedule", headers=auth("coordinator"),
                        json={"conference_id": later["id"], "planned_minutes": 10})
    assert error_of(again, 422)["message"] == "This follow-up is already scheduled."
    # Decided at the return visit: done, and no longer listed.
    hold_item(app, later["id"], returning, [people["okafor"]])
    _sign(client, auth, returning, "continue_conservative", 0, [people["okafor"]])
    assert client.get("/api/v1/follow-ups", headers=auth("coordinator")).json() == []


def test_signing_surgery_hands_off_to_surgeon_therapist_and_referrer(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        conference_id: int, item_ids: list[int], people: dict[str, int]) -> None:
    item = item_ids[-1]  # Dr. Hale's request
    present = [people["okafor"], people["lee"], people["raman"]]
    hold_item(app, conference_id, item, present)
    _sign(client, auth, item, "surgery_recommended", 12, present)
    with Session(app.state.engine) as session:
        case_id = session.get(AgendaItem, item).case_id  # type: ignore[union-attr]
    tasks = client.get(f"/api/v1/cases/{case_id}/handoffs", headers=auth("lee")).json()
    owners = {t["owner_role"]: t["owner_id"] for t in tasks}
    assert owners == {"surgeon": people["okafor"], "physical_therapist": people["lee"],
                      "referring_clinician": people["hale"]}
    today = date.today()
    assert {t["owner_role"]: t["due_on"] for t in tasks} == {
        "surgeon": str(today + timedelta(days=14)),
        "physical_therapist": str(today + timedelta(days=21)),
        "referring_clinician": str(today + timedelta(days=42))}
    mine = next(t for t in tasks if t["owner_role"] == "physical_therapist")
    inbox = client.get("/api/v1/notifications", headers=auth("lee")).json()
    assert inbox[0]["kind"] == "handoff" and inbox[0]["link"] == f"/cases/{case_id}#handoffs"
    # Someone else's task: not theirs to tick; a coordinator may reassign.
    error_of(client.patch(f"/api/v1/handoffs/{mine['id']}", headers=auth("raman"),
                          json={"done": True}), 403)
    error_of(client.patch(f"/api/v1/handoffs/{mine['id']}", headers=auth("lee"),
                          json={"owner_id": people["raman"]}), 403)
    done = client.patch(f"/api/v1/handoffs/{mine['id']}", headers=auth("lee"),
                        json={"done": True})
    assert done.status_code == 200 and done.json()["done_at"]
    moved = client.patch(f"/api/v1/handoffs/{mine['id']}", headers=auth("coordinator"),
                         json={"owner_id": people["raman"], "due_on": str(today)})
    assert moved.json()["owner_id"] == people["raman"] and moved.json()["due_on"] == str(today)
    stranger = client.post("/api/v1/users", headers=auth("admin"), json={
        "email": "far@else.example", "name": "Dr. Far", "role": "specialist",
        "specialty": "radiology", "password": "a-long-enough-password"})
    assert stranger.status_code == 201, stranger.text
    error_of(client.patch(f"/api/v1/handoffs/{mine['id']}", headers=auth("coordinator"),
                          json={"owner_id": stranger.json()["id"]}), 422)


def test_no_handoffs_without_surgery(client: TestClient, app: Starlette,
                                     auth: Callable[[str], Headers], conference_id: int,
                                     item_ids: list[int], people: dict[str, int]) -> None:
    item = item_ids[1]
    hold_item(app, conference_id, item, [people["okafor"]])
    _sign(client, auth, item, "pain_management", 0, [people["okafor"]])
    with Session(app.state.engine) as session:
        case_id = session.get(AgendaItem, item).case_id  # type: ignore[union-attr]
    assert client.get(f"/api/v1/cases/{case_id}/handoffs", headers=auth("lee")).json() == []
    assert client.get("/api/v1/follow-ups", headers=auth("coordinator")).json() == []
