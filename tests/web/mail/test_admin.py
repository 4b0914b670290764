"""Admins see the outbox (API and page) and retry a failed mail; a member added to an
announced conference gets its invitation."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.people import Role, Specialty
from storage.engine import session_scope
from storage.tables import User
from tests import factories
from tests.mailbox import Mailbox
from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import csrf_of, sign_in
from tests.web.mail.conftest import outbox_rows, settled


def _refuse_okafor(mailbox: Mailbox) -> None:
    mailbox.refused.add("okafor@casebridge.example")


def test_admins_see_the_outbox_and_retry_a_failed_mail(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        people: dict[str, int], conference_id: int, mailbox: Mailbox) -> None:
    settled(app, mailbox)
    _refuse_okafor(mailbox)
    # Okafor's address is refused by the server: his invitation fails for good.
    made = client.post("/api/v1/conferences", headers=auth("coordinator"), json={
        "title": "Tuesday board", "starts_at": "2031-03-04T17:00:00Z",
        "duration_minutes": 60, "chair_id": people["okafor"]}).json()
    client.put(f"/api/v1/conferences/{made['id']}/status", headers=auth("coordinator"),
               json={"status": "published"})
    settled(app, mailbox)
    failed = client.get("/api/v1/outbox?status=failed", headers=auth("admin")).json()
    assert [(m["to"], m["subject"], m["attempts"], m["last_error"]) for m in failed] == [
        ("okafor@casebridge.example", "Invitation: Tuesday board", 1,
         "550 5.1.1 No such mailbox here")]
    assert all(m["status"] == "sent" for m in client.get(
        "/api/v1/outbox?status=sent", headers=auth("admin")).json())
    error_of(client.get("/api/v1/outbox", headers=auth("coordinator")), 403)
    error_of(client.get("/api/v1/outbox?status=lost", headers=auth("admin")), 422)
    error_of(client.post(f"/api/v1/outbox/{failed[0]['id'] - 1}/retry",
                         headers=auth("admin")), 409, "mail_not_failed")

    # The page shows it with the server's words; its Retry sends it again.
    mailbox.refused.clear()
    csrf = sign_in(client, "admin@casebridge.example")
    page = client.get("/admin/outbox?status=failed")
    assert page.status_code == 200
    assert "550 5.1.1 No such mailbox here" in page.text
    assert "Invitation: Tuesday board" in page.text
    retried = client.post(f"/admin/outbox/{failed[0]['id']}/retry",
                          data={"csrf_token": csrf}, follow_redirects=False)
    assert retried.status_code == 303
    (again,) = mailbox.wait_for(1)
    assert again["To"].addresses[0].addr_spec == "okafor@casebridge.example"
    settled(app, mailbox)
    row = next(r for r in outbox_rows(app) if r.id == failed[0]["id"])
    assert row.status.value == "sent"


def test_a_member_added_after_publishing_is_invited(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        people: dict[str, int], conference_id: int, mailbox: Mailbox) -> None:
    settled(app, mailbox)
    with session_scope(app.state.engine) as session:
        newcomer = factories.user(session, Role.SPECIALIST, Specialty.ORTHOPEDIC_SPINE)
        newcomer_id, address = factories.id_of(newcomer), newcomer.email
    added = client.post(f"/api/v1/conferences/{conference_id}/members",
                        headers=auth("coordinator"),
                        json={"user_id": newcomer_id, "conference_role": "member"})
    assert added.status_code == 201, added.text
    (invite,) = mailbox.wait_for(1)
    assert invite["To"].addresses[0].addr_spec == address
    assert invite["Subject"].startswith("Invitation: Weekly multidisciplinary")


def test_the_mail_setting_on_the_notifications_page(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        mailbox: Mailbox) -> None:
    sign_in(client, "hale@ridgeview-clinic.example")
    page = client.get("/notifications")
    assert 'name="mail_notices" checked' in page.text
    client.post("/notifications/mail", data={"csrf_token": csrf_of(page.text)})
    with Session(app.state.engine) as session:
        hale = session.exec(select(User).where(
            User.email == "hale@ridgeview-clinic.example")).one()
        assert hale.mail_notices is False
    assert 'name="mail_notices" checked' not in client.get("/notifications").text
