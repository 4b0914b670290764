"""Case threads, mentions and notifications through the API."""

from collections.abc import Callable

from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage.tables import Case
from tests.factories import case_of
from tests.web.api.conftest import Headers, error_of

BOTH_BACKENDS = True  # outcomes, follow-ups and search on SQLite and PostgreSQL


def test_the_team_talks_in_a_case_thread_and_a_mention_notifies(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int], people: dict[str, int]) -> None:
    case_id = case_of(app, item_ids[0])
    url = f"/api/v1/cases/{case_id}/messages"
    assert client.get(url, headers=auth("lee")).json() == []
    posted = client.post(url, headers=auth("lee"), json={
        "body": "  ROM plateaued at week 6. @Raman: worth medial branch blocks?  ",
        "mentions": [people["raman"]]})
    assert posted.status_code == 201, posted.text
    line = posted.json()
    assert line["body"] == "ROM plateaued at week 6. @Raman: worth medial branch blocks?"
    assert (line["author_id"], line["author_name"]) == (people["lee"], "Jordan Lee, DPT")
    assert line["item_id"] is None and line["mentions"] == [people["raman"]]
    reply = client.post(url, headers=auth("raman"), json={"body": "Yes, book diagnostic blocks."})
    assert reply.status_code == 201
    thread = client.get(url, headers=auth("okafor")).json()
    assert [m["body"][:3] for m in thread] == ["ROM", "Yes"]  # oldest first
    inbox = client.get("/api/v1/notifications", headers=auth("raman")).json()
    assert len(inbox) == 1 and inbox[0]["kind"] == "mention" and not inbox[0]["read"]
    assert inbox[0]["link"] == f"/cases/{case_id}#thread"
    assert "SPN-2026-0117" in inbox[0]["text"] and "plateau" not in inbox[0]["text"].lower()
    assert client.get("/api/v1/notifications", headers=auth("lee")).json() == []
    # Only its owner reads or marks it.
    assert client.post(f"/api/v1/notifications/{inbox[0]['id']}/read",
                       headers=auth("lee")).status_code == 404
    marked = client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=auth("raman"))
    assert marked.status_code == 200 and marked.json()["read"] is True


def test_thread_refusals(client: TestClient, app: Starlette, auth: Callable[[str], Headers],
                         item_ids: list[int], people: dict[str, int],
                         outsider: Headers) -> None:
    case_id = case_of(app, item_ids[0])
    url = f"/api/v1/cases/{case_id}/messages"
    for body in ("", "   ", "x" * 4001):
        error_of(client.post(url, headers=auth("lee"), json={"body": body}), 422)
    # Someone who may not open the case cannot be mentioned: it would tell them it exists.
    stranger = client.get("/api/v1/users/me", headers=outsider).json()["id"]
    refused = error_of(client.post(url, headers=auth("lee"), json={
        "body": "Any thoughts?", "mentions": [people["raman"], stranger]}), 422)
    assert refused["details"]["field"] == "mentions"
    error_of(client.post(url, headers=outsider, json={"body": "hello"}), 404)
    error_of(client.get(url, headers=outsider), 404)
    error_of(client.post(url, json={"body": "hello"}), 401)
    with Session(app.state.engine) as session:
        assert session.exec(select(Case).where(Case.id == case_id)).one()
    assert len(client.get(url, headers=auth("lee")).json()) == 0  # nothing was stored


def test_the_referrer_writes_in_her_own_case_thread(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int]) -> None:
    own = case_of(app, item_ids[-1])  # Dr. Hale's request, on the agenda
    posted = client.post(f"/api/v1/cases/{own}/messages", headers=auth("hale"),
                         json={"body": "New numbness since Monday."})
    assert posted.status_code == 201, posted.text
    coordinator_view = client.get(f"/api/v1/cases/{own}/messages", headers=auth("coordinator"))
    assert [m["body"] for m in coordinator_view.json()] == ["New numbness since Monday."]


def test_room_chat_with_no_case_current_is_kept_with_the_conference(
        client: TestClient, auth: Callable[[str], Headers], conference_id: int,
        outsider: Headers) -> None:
    lines = client.get(f"/api/v1/conferences/{conference_id}/messages", headers=auth("lee"))
    assert lines.status_code == 200 and lines.json() == []
    error_of(client.get(f"/api/v1/conferences/{conference_id}/messages",
                        headers=outsider), 404)
