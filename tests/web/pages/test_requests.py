import dataclasses
import io

import pytest
from pypdf import PdfReader
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.people import Role, Specialty
from storage import cases, conferences, referrals, users
from storage.demo import DEMO_PASSWORD
from tests.factories import found, hold_demo
from tests.web.conftest import sign_in
from tests.web.pages.conftest import (
    CHAIR,
    COORDINATOR,
    DEMO_CONFERENCE,
    HALE,
    RAMAN,
    SCHEDULED_REQUEST,
    SUBMITTED_REQUEST,
    database,
    field_error,
    field_value,
)
from web.settings import Institution

REQUEST = {"patient_ref": "RRC-77001", "age": "47", "sex": "female", "urgency": "urgent",
           "question": "Cauda equina concerns: transfer today?", "summary": "Saddle numbness.",
           "care_rows": "4", "imaging_rows": "2",
           "care-0-kind": "medication", "care-0-description": "Ibuprofen",
           "care-0-response": "unchanged",
           "imaging-0-url": "https://pacs.ridgeview.example/ct/1", "imaging-0-modality": "CT",
           "imaging-0-description": "Lumbar CT",
           "requested_specialties": ["neurosurgery", "orthopedic_spine"]}



@pytest.fixture(autouse=True)
def _meeting_held(app: Starlette, demo: None) -> None:
    """Signing needs the meeting under way with the panel in the room."""
    hold_demo(app)

def test_new_request_form_for_a_referring_clinician(client: TestClient, demo: None) -> None:
    sign_in(client, HALE)
    html = client.get("/requests/new").text
    assert 'id="f-imaging-1-url"' in html and 'value="pain_medicine"' in html
    assert 'id="f-care-3-kind"' in html


def test_new_request_is_refused_to_a_specialist(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    assert client.get("/requests/new").status_code == 403


def test_new_request_creates_request_case_and_imaging(client: TestClient, demo: None, app: Starlette
                                                      ) -> None:
    csrf = sign_in(client, HALE)
    response = client.post("/requests/new", data={**REQUEST, "csrf_token": csrf,
                                                  "referrer_patient_id": " MRN 5521 "},
                           follow_redirects=False)
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "Request sent." in html and "RRC-77001" in html and "Submitted</span>" in html
    assert "your patient identifier MRN 5521" in html
    with database(app) as session:
        row = referrals.get_request(session, int(response.headers["location"].split("/")[-1]))
        assert row.requested_specialties == ["neurosurgery", "orthopedic_spine"]
        assert row.referrer_patient_id == "MRN 5521"
        assert [i.description for i in cases.imaging(session, row.case_id)] == ["Lumbar CT"]


def test_new_request_shows_every_problem_next_to_its_field(client: TestClient, demo: None,
                                                           app: Starlette) -> None:
    csrf = sign_in(client, HALE)
    response = client.post("/requests/new", data={
        **REQUEST, "csrf_token": csrf, "requested_specialties": [],
        "imaging-0-url": "javascript:alert(1)", "age": ""})
    assert response.status_code == 422
    assert "at least one specialty" in found(field_error(response.text, "requested_specialties"))
    assert "must use https" in found(field_error(response.text, "imaging-0-url"))
    assert field_error(response.text, "age") == "Age is required."
    assert field_value(response.text, "imaging-0-url") == "javascript:alert(1)"
    assert field_value(response.text, "question") == "Cauda equina concerns: transfer today?"
    with database(app) as session:
        hale = found(users.find_by_email(session, HALE))
        assert len(referrals.requests_of(session, viewer=hale)) == 2  # nothing half-saved


def test_new_request_reports_every_error_at_once_with_a_summary(client: TestClient,
                                                                demo: None) -> None:
    csrf = sign_in(client, HALE)
    response = client.post("/requests/new", data={
        **REQUEST, "csrf_token": csrf, "question": " ", "age": "", "requested_specialties": [],
        "care-0-description": "", "referrer_patient_id": "Jane Doe",
        "imaging-0-url": "http://localhost/x"})
    assert response.status_code == 422
    html = response.text
    expected = {"question": "Question is required.", "age": "Age is required.",
                "care-0-description": "The description is required.",
                "requested_specialties": "Name at least one specialty you want an opinion from.",
                "referrer_patient_id": None, "imaging-0-url": None}
    for name, message in expected.items():
        shown = found(field_error(html, name))
        assert message is None or shown == message, (name, shown)
        assert f'<a href="#f-{name}">' in html, name
    summary = html[html.index("data-error-summary"):html.index("</ul>")]
    assert 'role="alert"' in html[html.index('class="error-summary"') - 5:][:200]
    assert summary.count("<li>") == len(expected)
    assert "6 things to correct" in summary
    order = [summary.index(f'href="#f-{name}"') for name in
             ("age", "question", "care-0-description", "imaging-0-url", "requested_specialties")]
    assert order == sorted(order)  # the page's order, the unticked group last
    assert "development" not in html


def test_new_request_add_a_study_row(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, HALE)
    html = client.post("/requests/new", data={**REQUEST, "csrf_token": csrf,
                                              "add_row": "imaging"}).text
    assert 'id="f-imaging-2-url"' in html
    assert field_value(html, "imaging-0-url") == "https://pacs.ridgeview.example/ct/1"


def test_new_request_refuses_a_form_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, HALE)
    assert client.post("/requests/new", data=REQUEST).status_code == 403


def test_requests_queue_for_the_coordinator(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    html = client.get("/requests").text
    assert f'id="request-{SUBMITTED_REQUEST}"' in html
    assert f'id="request-{SCHEDULED_REQUEST}"' not in html  # already scheduled
    assert "Weekly multidisciplinary spine conference" in html


def test_requests_list_for_a_clinician_shows_only_their_own(client: TestClient, demo: None,
                                                            app: Starlette) -> None:
    with database(app) as session:
        other = users.create_user(session, email="far@clinic.example", name="Dr. Far Away",
                                  role=Role.REFERRING_CLINICIAN,
                                  specialty=Specialty.PRIMARY_CARE, password=DEMO_PASSWORD)
        assert other.id is not None
    sign_in(client, "far@clinic.example")
    html = client.get("/requests").text
    assert "RRC-88412" not in html and "No requests yet" in html
    assert client.get(f"/requests/{SCHEDULED_REQUEST}").status_code == 404
    assert client.get(f"/requests/{SCHEDULED_REQUEST}/letter").status_code == 404


def test_accept_then_schedule(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    html = client.post(f"/requests/{SUBMITTED_REQUEST}/accept", data={"csrf_token": csrf}).text
    assert "accepted" in html
    response = client.post(f"/requests/{SUBMITTED_REQUEST}/schedule", data={
        "csrf_token": csrf, "conference_id": str(DEMO_CONFERENCE), "planned_minutes": "10"})
    assert "is on the agenda" in response.text and "RRC-88530" in response.text


def test_schedule_errors_are_shown_next_to_the_fields(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post(f"/requests/{SUBMITTED_REQUEST}/schedule", data={
        "csrf_token": csrf, "conference_id": str(DEMO_CONFERENCE), "planned_minutes": "0"})
    assert response.status_code == 422
    assert "1 to 120 minutes" in found(field_error(response.text, f"minutes-{SUBMITTED_REQUEST}"))
    assert field_value(response.text, f"minutes-{SUBMITTED_REQUEST}") == "0"
    assert field_value(response.text, f"conference-{SUBMITTED_REQUEST}") == str(DEMO_CONFERENCE)


def test_decline_needs_a_reason_then_the_clinician_sees_it(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post(f"/requests/{SUBMITTED_REQUEST}/decline",
                           data={"csrf_token": csrf, "reason": " "})
    assert response.status_code == 422
    reason_error = found(field_error(response.text, f"reason-{SUBMITTED_REQUEST}"))
    assert "a reason is required" in reason_error
    client.post(f"/requests/{SUBMITTED_REQUEST}/decline",
                data={"csrf_token": csrf, "reason": "Please refer to the fracture clinic."})
    client.cookies.clear()
    sign_in(client, HALE)
    html = client.get(f"/requests/{SUBMITTED_REQUEST}").text
    assert "Declined" in html and "Please refer to the fracture clinic." in html


def test_queue_actions_are_refused_to_a_clinician_and_without_csrf(client: TestClient, demo: None
                                                                   ) -> None:
    csrf = sign_in(client, HALE)
    assert client.post(f"/requests/{SUBMITTED_REQUEST}/accept",
                       data={"csrf_token": csrf}).status_code == 403
    client.cookies.clear()
    sign_in(client, COORDINATOR)
    assert client.post(f"/requests/{SUBMITTED_REQUEST}/accept").status_code == 403


def test_request_timeline_shows_each_step_with_its_time(client: TestClient, demo: None) -> None:
    sign_in(client, HALE)
    html = client.get(f"/requests/{SCHEDULED_REQUEST}").text
    assert html.count('class="step done"') == 3  # submitted, accepted, scheduled
    assert "Weekly multidisciplinary spine conference" in html
    assert "/letter" not in html


def _sign_then_amend(client: TestClient) -> None:
    """The chair signs the scheduled request's decision (with a dissent), then amends it."""
    client.cookies.clear()
    csrf = sign_in(client, CHAIR)
    client.post("/cases/7/decisions/7", data={
        "csrf_token": csrf, "outcome": "continue_conservative", "rationale": "Improving.",
        "plan": "Home programme; urgent review if weakness worsens.", "follow_up_weeks": "4",
        "present_user_ids": ["3", "5"], "version": "0", "then_sign": "1", "confirm": "1"})
    client.post("/cases/7/decisions/7/amend", data={
        "csrf_token": csrf, "outcome": "physical_therapy", "rationale": "Improving.",
        "plan": "Supervised PT.", "follow_up_weeks": "4", "present_user_ids": ["3", "5"],
        "dissent_rows": "1", "dissent-0-user_id": "5",
        "dissent-0-opinion": "Would image again before any therapy.",
        "version": "2", "reason": "PT available locally after all"})
    client.cookies.clear()


def test_letter_once_answered_with_everything_a_clinic_files(client: TestClient, demo: None
                                                             ) -> None:
    sign_in(client, HALE)
    assert client.get(f"/requests/{SCHEDULED_REQUEST}/letter").status_code == 404
    _sign_then_amend(client)
    sign_in(client, HALE)
    assert "Read the decision letter" in client.get(f"/requests/{SCHEDULED_REQUEST}").text
    html = client.get(f"/requests/{SCHEDULED_REQUEST}/letter").text
    for text in ("Multidisciplinary Spine Conference", "RRC-88412", "Does the new weakness",
                 "Physical therapy", "Supervised PT.", "Review in 4 weeks",
                 "Dr. Priya Raman, MD, FRCPC — Pain medicine",
                 'class="signer">Dr. Amara Okafor, MD, FRCSC</strong>, chair of the conference',
                 "PT available locally after all", "Original decision (Continue conservative",
                 f"CB-{SCHEDULED_REQUEST}-R2", "Revision</dt><dd>2 of 2",
                 'Your patient identifier</th><td><strong class="referrer-id">RRC 0044712',
                 "What the panel reviewed", "Would image again before any therapy.",
                 'src="/static/js/print.js"', f'href="/requests/{SCHEDULED_REQUEST}/letter.pdf"'):
        assert text in html, text


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_letter_pdf_holds_what_the_letter_says(client: TestClient, demo: None, app: Starlette
                                               ) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, institution=Institution(
        name="Lakeside General Hospital", address="200 Shore Road\nLakeside ON K0A 1B0",
        phone="+1 613 555 0100"))
    sign_in(client, HALE)
    assert client.get(f"/requests/{SCHEDULED_REQUEST}/letter.pdf").status_code == 404
    _sign_then_amend(client)
    sign_in(client, HALE)
    response = client.get(f"/requests/{SCHEDULED_REQUEST}/letter.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="CB-{SCHEDULED_REQUEST}-R2.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    text = " ".join(_pdf_text(response.content).split())
    with database(app) as session:
        conf = conferences.get_conference(session, DEMO_CONFERENCE)
        meeting = f"{conf.starts_at:%d %b %Y}"
    for expected in ("Lakeside General Hospital", "200 Shore Road", "Lakeside ON K0A 1B0",
                     "+1 613 555 0100", f"CB-{SCHEDULED_REQUEST}-R2", "Physical therapy",
                     "Supervised PT.", "Signed by Dr. Amara Okafor, MD, FRCSC",
                     "chair of the conference", "RRC 0044712", "RRC-88412", meeting,
                     "History of care", "Imaging", "Would image again before any therapy.",
                     "PT available locally after all"):
        assert expected in text, expected
    assert "Download PDF" not in text  # the page's tools are not part of the letter


def test_letter_pdf_is_refused_like_the_letter(client: TestClient, demo: None, app: Starlette
                                               ) -> None:
    _sign_then_amend(client)
    with database(app) as session:
        other = users.create_user(session, email="far@clinic.example", name="Dr. Far Away",
                                  role=Role.REFERRING_CLINICIAN,
                                  specialty=Specialty.PRIMARY_CARE, password=DEMO_PASSWORD)
        assert other.id is not None
    for who, status in (("far@clinic.example", 404), (COORDINATOR, 200), (HALE, 200)):
        client.cookies.clear()
        sign_in(client, who)
        for path in ("letter", "letter.pdf"):
            got = client.get(f"/requests/{SCHEDULED_REQUEST}/{path}", follow_redirects=False)
            assert got.status_code == status, (who, path)
    client.cookies.clear()
    signed_out = client.get(f"/requests/{SCHEDULED_REQUEST}/letter.pdf", follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]


def test_requests_page_shows_the_median_turnaround(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    assert "median turnaround" not in client.get("/requests").text  # nothing answered yet
    client.cookies.clear()
    csrf = sign_in(client, CHAIR)
    client.post("/cases/7/decisions/7", data={
        "csrf_token": csrf, "outcome": "continue_conservative", "rationale": "Improving.",
        "plan": "Home programme.", "follow_up_weeks": "4", "present_user_ids": ["3", "5"],
        "version": "0", "then_sign": "1", "confirm": "1"})
    client.cookies.clear()
    sign_in(client, COORDINATOR)
    html = client.get("/requests").text
    assert "1 answered so far" in html and "median turnaround" in html
    assert "under an hour" in html
