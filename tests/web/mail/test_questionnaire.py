"""A follow-up questionnaire can reach the patient ahead of the meeting: its link is
mailed to the referring clinician to pass on (Casebridge keeps no patient contacts)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.mailbox import Mailbox, body_text
from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import csrf_of, sign_in
from tests.web.mail.conftest import PUBLIC, settled


def test_the_referrer_gets_the_link_to_pass_on(client: TestClient, app: Starlette,
                                              auth: Callable[[str], Headers],
                                              mailbox: Mailbox) -> None:
    settled(app, mailbox)
    case_id = client.get("/api/v1/requests/1", headers=auth("coordinator")).json()["case_id"]
    made = client.post(f"/api/v1/cases/{case_id}/outcome-links", headers=auth("coordinator"),
                       json={"instruments": ["odi", "nrs_leg"], "timepoint": "6_weeks",
                             "send_to_referrer": True})
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["mailed_to"] == "Dr. Martha Hale (Ridgeview Rural Clinic)"
    (mail,) = mailbox.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "hale@ridgeview-clinic.example"
    assert mail["Subject"] == "A questionnaire for your patient (RRC-88412)"
    text = body_text(mail)
    assert f"{PUBLIC}/outcomes/{link['token']}" in text
    assert "Sam Rivera asks your patient RRC-88412" in text
    summary = client.get(f"/api/v1/cases/{case_id}", headers=auth("coordinator")).json()
    assert summary["summary"][:30] not in text and summary["question"][:30] not in text
    # The address works for the patient; Hale also hears of it in her inbox.
    assert client.get(f"/outcomes/{link['token']}").status_code == 200
    told = client.get("/api/v1/notifications", headers=auth("hale")).json()[0]
    assert told["kind"] == "questionnaire" and told["link"] == f"/cases/{case_id}#outcomes"
    # Not asked to: nothing is mailed.
    plain = client.post(f"/api/v1/cases/{case_id}/outcome-links", headers=auth("coordinator"),
                        json={"instruments": ["odi"]}).json()
    assert plain["mailed_to"] is None


def test_a_case_without_a_referrer_says_so(client: TestClient, app: Starlette,
                                           auth: Callable[[str], Headers],
                                           conference_id: int, mailbox: Mailbox) -> None:
    agenda = client.get(f"/api/v1/conferences/{conference_id}",
                        headers=auth("coordinator")).json()["agenda"]
    own = next(i["case_id"] for i in agenda
               if not client.get(f"/api/v1/cases/{i['case_id']}",
                                 headers=auth("coordinator")).json().get("requested_by_id"))
    error_of(client.post(f"/api/v1/cases/{own}/outcome-links", headers=auth("coordinator"),
                         json={"instruments": ["odi"], "send_to_referrer": True}),
             409, "no_referrer")


def test_the_case_page_offers_to_mail_it(client: TestClient, app: Starlette,
                                         auth: Callable[[str], Headers],
                                         mailbox: Mailbox) -> None:
    settled(app, mailbox)
    case_id = client.get("/api/v1/requests/1", headers=auth("coordinator")).json()["case_id"]
    sign_in(client, "coordinator@casebridge.example")
    page = client.get(f"/cases/{case_id}")
    assert "Mail the link to Dr. Martha Hale (Ridgeview Rural Clinic)" in page.text
    sent = client.post(f"/cases/{case_id}/outcome-links", data={
        "csrf_token": csrf_of(page.text), "instruments": "ndi", "send_to_referrer": "on"})
    assert sent.status_code == 200
    assert "Mailed to Dr. Martha Hale (Ridgeview Rural Clinic)" in sent.text
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "A questionnaire for your patient (RRC-88412)"
