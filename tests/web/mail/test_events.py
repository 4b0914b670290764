"""Each event's mail reaches the right people through a real SMTP server, says what
happened, links to the page, and carries no clinical text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from icalendar import Calendar
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.people import Role
from storage.tables import User
from tests.factories import hold_demo
from tests.mailbox import Mailbox, body_text
from tests.web.api.conftest import Headers
from tests.web.mail.conftest import PUBLIC, settled

CLINICAL = ["Foot drop since Monday", "Does he need surgery", "Rest for a fortnight",
            "Needs an MRI first", "wound looks angry", "Physiotherapy six weeks",
            "Improving slowly"]
REQUEST = {"patient_ref": "RRC-90001", "age": 47, "sex": "male", "urgency": "urgent",
           "summary": "Foot drop since Monday.", "question": "Does he need surgery today?",
           "care_history": [{"kind": "other", "description": "Rest for a fortnight",
                             "response": "worse"}],
           "requested_specialties": ["neurosurgery"]}


def _emails(app: Starlette, role: Role) -> set[str]:
    with Session(app.state.engine) as session:
        return {u.email for u in session.exec(select(User).where(User.role == role,
                                                                 User.active == True))}  # noqa: E712


def _calendar(message: EmailMessage) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return Calendar.from_ical(parts[0].get_content())


def _link(message: EmailMessage) -> str:
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    line = next(x for x in plain.get_content().splitlines() if x.startswith("Open it"))
    return str(line.split(": ", 1)[1])


def test_every_event_mails_its_people_and_no_clinical_text(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        people: dict[str, int], mailbox: Mailbox) -> None:
    settled(app, mailbox)
    coordinators = _emails(app, Role.COORDINATOR)
    hale = "hale@ridgeview-clinic.example"
    sent: list[EmailMessage] = []

    def arrived(count: int) -> list[EmailMessage]:
        new = mailbox.wait_for(count)[:count]
        mailbox.messages.clear()
        sent.extend(new)
        return new

    # A rural clinician's request: every active coordinator hears.
    made = client.post("/api/v1/requests", json=REQUEST, headers=auth("hale"))
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    mails = arrived(len(coordinators))
    assert {m["To"].addresses[0].addr_spec for m in mails} == coordinators
    assert all(m["Subject"] == "New second-opinion request (RRC-90001)" for m in mails)
    assert _link(mails[0]) == f"{PUBLIC}/requests/{request_id}"

    # Accepted, then scheduled (title and time), and another declined with a reason:
    # the requester hears each time; the reason stays on the page.
    assert client.post(f"/api/v1/requests/{request_id}/accept",
                       headers=auth("coordinator")).status_code == 200
    (accepted,) = arrived(1)
    assert accepted["To"].addresses[0].addr_spec == hale
    assert accepted["Subject"] == "Request accepted (RRC-90001)"
    declined = client.post("/api/v1/requests/2/decline", headers=auth("coordinator"),
                           json={"reason": "Needs an MRI first: weakness 4/5 L5."})
    assert declined.status_code == 200, declined.text
    (said,) = arrived(1)
    assert said["Subject"] == "Request declined (RRC-88530)"

    # A conference published: every member gets a calendar request.
    starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, second=0)
    conf = client.post("/api/v1/conferences", headers=auth("coordinator"), json={
        "title": "Friday spine board", "starts_at": starts.isoformat(),
        "duration_minutes": 90, "chair_id": people["okafor"]}).json()
    for who in ("brooks", "hale"):
        assert client.post(f"/api/v1/conferences/{conf['id']}/members",
                           headers=auth("coordinator"),
                           json={"user_id": people[who], "conference_role": "member"}
                           ).status_code == 201
    assert not mailbox.messages  # a draft invites nobody yet
    url = f"/api/v1/conferences/{conf['id']}"
    assert client.put(f"{url}/status", headers=auth("coordinator"),
                      json={"status": "published"}).status_code == 200
    invites = arrived(3)
    assert {m["To"].addresses[0].addr_spec for m in invites} == {
        "okafor@casebridge.example", "brooks@casebridge.example", hale}
    first = _calendar(invites[0])
    event = first.walk("VEVENT")[0]
    assert first["METHOD"] == "REQUEST" and event["SEQUENCE"] == 0
    uid = str(event["UID"])
    assert event.decoded("DTSTART") == starts
    assert event.decoded("DTEND") == starts + timedelta(minutes=90)
    assert str(event["URL"]) == f"{PUBLIC}/conferences/{conf['id']}/room"
    assert str(event["ORGANIZER"]) == "mailto:coordinator@casebridge.example"
    attendees = {str(a): a.params["ROLE"] for a in event.get("ATTENDEE")}
    assert attendees["mailto:okafor@casebridge.example"] == "CHAIR"
    assert len(attendees) == 3

    # Scheduled onto it: the requester is told the title and the time.
    assert client.post(f"/api/v1/requests/{request_id}/schedule", headers=auth("coordinator"),
                       json={"conference_id": conf["id"], "planned_minutes": 15}
                       ).status_code == 200
    (scheduled,) = arrived(1)
    assert "Friday spine board" in body_text(scheduled)
    assert f"{starts:%d %b %Y %H:%M} UTC" in body_text(scheduled)

    # Re-timed: the same UID, a higher SEQUENCE, to everyone.
    later = starts + timedelta(hours=2)
    assert client.patch(url, headers=auth("coordinator"),
                        json={"starts_at": later.isoformat()}).status_code == 200
    updates = arrived(3)
    event = _calendar(updates[0]).walk("VEVENT")[0]
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == later
    assert all(m["Subject"] == "Updated invitation: Friday spine board" for m in updates)

    # Cancelled before it was held: METHOD:CANCEL, same UID.
    assert client.put(f"{url}/status", headers=auth("coordinator"),
                      json={"status": "closed"}).status_code == 200
    cancels = arrived(3)
    cancelled = _calendar(cancels[0])
    assert cancelled["METHOD"] == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["UID"]) == uid
    assert cancelled.walk("VEVENT")[0]["STATUS"] == "CANCELLED"

    # A decision signed on a requested case: the letter is ready.
    hold_demo(app)
    item = client.get("/api/v1/requests/1", headers=auth("hale")).json()["agenda_item_id"]
    decision = f"/api/v1/agenda-items/{item}/decision"
    client.put(decision, headers=auth("okafor"), json={
        "outcome": "physical_therapy", "rationale": "Improving slowly.",
        "plan": "Physiotherapy six weeks.", "follow_up_weeks": 6,
        "present_user_ids": [people["okafor"]], "version": 0})
    assert client.post(f"{decision}/sign", headers=auth("okafor")).status_code == 200
    letter = [m for m in arrived(1) if m["To"].addresses[0].addr_spec == hale]
    assert letter and letter[0]["Subject"] == "Decision letter ready (RRC-88412)"
    assert _link(letter[0]) == f"{PUBLIC}/requests/1/letter"

    # A mention in a case thread: the person mentioned hears (not the thread's words).
    case_id = client.get("/api/v1/requests/1", headers=auth("hale")).json()["case_id"]
    posted = client.post(f"/api/v1/cases/{case_id}/messages", headers=auth("okafor"), json={
        "body": "The wound looks angry, can you see her?", "mentions": [people["hale"]]})
    assert posted.status_code == 201, posted.text
    (mention,) = arrived(1)
    assert mention["To"].addresses[0].addr_spec == hale
    assert mention["Subject"].endswith("mentioned you (RRC-88412)")
    assert _link(mention) == f"{PUBLIC}/cases/{case_id}#thread"

    # Every mail: plain text and HTML, a Message-ID of its own, and nothing clinical.
    assert len({m["Message-ID"] for m in sent}) == len(sent)
    for message in sent:
        kinds = {p.get_content_type() for p in message.walk()}
        assert {"text/plain", "text/html"} <= kinds
        assert message["Message-ID"].endswith("@hospital.example>")
        raw = message.as_string()
        for words in CLINICAL:
            assert words not in raw and words not in body_text(message), message["Subject"]


def test_a_person_may_keep_notices_in_the_inbox_only(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        mailbox: Mailbox) -> None:
    settled(app, mailbox)
    assert client.get("/api/v1/users/me/mail", headers=auth("hale")).json() == {
        "mail_notices": True}
    assert client.put("/api/v1/users/me/mail", headers=auth("hale"),
                      json={"mail_notices": False}).json() == {"mail_notices": False}
    assert client.post("/api/v1/requests/1/accept", headers=auth("coordinator")).status_code \
        in (200, 409)
    declined = client.post("/api/v1/requests/2/decline", headers=auth("coordinator"),
                           json={"reason": "Not for us."})
    assert declined.status_code == 200
    notices = client.get("/api/v1/notifications", headers=auth("hale")).json()
    assert notices[0]["text"].startswith("Your request for RRC-88530 was declined")
    settled(app, mailbox)
    with Session(app.state.engine) as session:
        from storage.tables import OutboxMail
        assert not session.exec(select(OutboxMail).where(
            OutboxMail.to_address == "hale@ridgeview-clinic.example",
            OutboxMail.subject == "Request declined (RRC-88530)")).all()
