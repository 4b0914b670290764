from datetime import date, timedelta

from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.audit import Entity
from storage import audit, cases
from tests.factories import found
from tests.web.conftest import sign_in
from tests.web.pages.conftest import (
    CHAIR,
    COORDINATOR,
    HALE,
    RAMAN,
    database,
    field_error,
    field_value,
)

TODAY = date.today()
CASE = {"patient_ref": "SPN-2030-0001", "age": "61", "sex": "male", "urgency": "soon",
        "question": "Fusion or decompression alone?", "summary": "Stenosis with listhesis.",
        "eases": "Sitting", "worsens": "Walking", "care_rows": "4",
        "care-0-kind": "injection", "care-0-description": "L4-5 epidural injection",
        "care-0-started_on": str(TODAY - timedelta(days=30)), "care-0-response": "improved",
        "care-1-kind": "physical_therapy", "care-1-description": "Flexion programme",
        "care-1-started_on": str(TODAY - timedelta(days=200)),
        "care-1-ended_on": str(TODAY - timedelta(days=150)), "care-1-response": "worse",
        "care-1-notes": "Stopped early", "care-2-response": "unknown",
        "care-3-response": "unknown"}


def test_new_case_form_has_blank_history_rows(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    html = client.get("/cases/new").text
    assert 'id="f-care-3-description"' in html and 'id="f-care-4-description"' not in html


def test_new_case_is_refused_to_a_specialist(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    assert client.get("/cases/new").status_code == 403


def test_new_case_add_row_keeps_what_was_typed(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/new", data={**CASE, "csrf_token": csrf, "add_row": "care"})
    assert response.status_code == 200
    assert 'id="f-care-4-description"' in response.text
    assert field_value(response.text, "care-1-notes") == "Stopped early"


def test_new_case_is_created_with_its_timeline_oldest_first(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/new", data={**CASE, "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "Fusion or decompression alone?" in html
    assert html.index("Flexion programme") < html.index("L4-5 epidural injection")
    assert 'class="response response-worse"' in html and "Worse</span>" in html
    assert "Improved</span>" in html


def test_new_case_refuses_a_name_as_patient_reference_next_to_the_field(client: TestClient,
                                                                        demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/new", data={**CASE, "patient_ref": "Jane Doe",
                                               "csrf_token": csrf})
    assert response.status_code == 422
    assert "never the patient's name" in found(field_error(response.text, "patient_ref"))
    assert field_value(response.text, "patient_ref") == "Jane Doe"
    assert field_value(response.text, "question") == "Fusion or decompression alone?"
    assert field_value(response.text, "care-1-kind") == "physical_therapy"


def test_new_case_puts_a_history_error_on_its_row(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/new", data={
        **CASE, "csrf_token": csrf, "care-1-ended_on": str(TODAY - timedelta(days=300))})
    assert field_error(response.text, "care-1-ended_on") == \
        "A treatment cannot end before it started."
    response = client.post("/cases/new", data={**CASE, "csrf_token": csrf, "age": "sixty",
                                               "care-2-notes": "no kind given"})
    assert field_error(response.text, "age") == "Age must be a whole number."
    assert field_error(response.text, "care-2-kind") == "Choose kind of treatment."


def test_new_case_refuses_a_form_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    assert client.post("/cases/new", data=CASE).status_code == 403


def test_case_page_for_a_member(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    html = client.get("/cases/2").text
    assert "Decompression alone, or decompression with fusion" in html
    assert html.index("Flexion-based programme") < html.index("interlaminar")
    assert 'target="_blank" rel="noopener noreferrer"' in html
    assert "Record the decision" in html and "Add an imaging link" not in html
    assert "Audit trail" not in html


def test_case_page_is_not_found_for_an_outsider(client: TestClient, outsider: str) -> None:
    sign_in(client, outsider)
    response = client.get("/cases/2")
    assert response.status_code == 404 and "spondylolisthesis" not in response.text


def test_case_page_shows_the_audit_trail_to_coordinators(client: TestClient, demo: None,
                                                         app: Starlette) -> None:
    sign_in(client, COORDINATOR)
    html = client.get("/cases/2").text
    assert "Audit trail" in html and "Viewed" in html
    with database(app) as session:
        assert audit.events_for(session, entity=Entity.CASE, entity_id=2)[-1].action == \
            "viewed"
    # The export for the medical record beside it, which the browser's session may fetch.
    assert 'href="/api/v1/cases/2/fhir"' in html
    exported = client.get("/api/v1/cases/2/fhir")
    assert exported.status_code == 200 and exported.json()["resourceType"] == "Bundle"


def test_case_page_referring_clinician_sees_own_case_and_may_add_imaging(client: TestClient,
                                                                         demo: None) -> None:
    sign_in(client, HALE)
    html = client.get("/cases/7").text
    assert "RRC-88412" in html and "Add an imaging link" in html
    assert "The panel has not signed a decision yet" in html
    assert "Record the decision" not in html


def test_add_imaging_shows_the_rejection_next_to_the_url(client: TestClient, demo: None,
                                                         app: Starlette) -> None:
    csrf = sign_in(client, HALE)
    response = client.post("/cases/7/imaging", data={
        "csrf_token": csrf, "url": "http://pacs.example.org/study/1", "modality": "CT",
        "description": "Lumbar CT"})
    assert response.status_code == 422
    assert "must use https" in found(field_error(response.text, "url"))
    assert field_value(response.text, "url") == "http://pacs.example.org/study/1"
    assert field_value(response.text, "modality") == "CT"
    ok = client.post("/cases/7/imaging", data={
        "csrf_token": csrf, "url": "https://pacs.example.org/study/1", "modality": "CT",
        "description": "Lumbar CT"})
    assert "Imaging link added" in ok.text
    with database(app) as session:
        assert cases.imaging(session, 7)[-1].description == "Lumbar CT"


def test_add_imaging_is_refused_to_a_specialist_and_without_csrf(client: TestClient, demo: None
                                                                 ) -> None:
    csrf = sign_in(client, CHAIR)
    data = {"url": "https://pacs.example.org/x", "modality": "MR"}
    assert client.post("/cases/2/imaging", data={**data, "csrf_token": csrf}).status_code \
        == 403
    assert client.post("/cases/2/imaging", data=data).status_code == 403


def test_case_treatment_added_from_the_page(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, HALE)  # the referring clinician completes their own case
    page = client.get("/cases/7").text
    assert "Add a treatment already tried" in page
    response = client.post("/cases/7/care-history", data={
        "csrf_token": csrf, "kind": "physical_therapy", "description": "Dorsiflexion drills",
        "started_on": "2026-11-01", "ended_on": "", "response": "improved", "notes": ""},
        follow_redirects=False)
    assert response.status_code == 303
    assert "Dorsiflexion drills" in client.get("/cases/7").text


def test_case_treatment_errors_next_to_the_field(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/1/care-history", data={
        "csrf_token": csrf, "kind": "injection", "description": "ESI",
        "started_on": "2026-10-05", "ended_on": "2026-10-01", "response": "unchanged",
        "notes": ""})
    assert response.status_code == 422
    assert field_error(response.text, "ended_on") and 'value="ESI"' in response.text


def test_case_treatment_and_correction_forms_report_every_error(client: TestClient,
                                                                demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/1/care-history", data={
        "csrf_token": csrf, "kind": "", "description": " ", "started_on": "",
        "ended_on": "", "response": "unchanged", "notes": ""})
    assert response.status_code == 422
    assert field_error(response.text, "kind") == "Choose kind of treatment."
    assert field_error(response.text, "description") == "The description is required."
    assert 'id="error-summary-care"' in response.text
    response = client.post("/cases/2/edit", data={
        "csrf_token": csrf, "question": "", "summary": " ", "urgency": "urgent"})
    assert response.status_code == 422
    assert field_error(response.text, "question") == "Question is required."
    assert field_error(response.text, "summary") == "Summary is required."
    assert "2 things to correct" in response.text


def test_case_corrections_until_signed(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/cases/2/edit", data={
        "csrf_token": csrf, "question": "Decompression alone?", "summary": "Stenosis.",
        "urgency": "urgent", "eases": "Sitting", "worsens": "Walking"}, follow_redirects=False)
    assert response.status_code == 303
    html = client.get("/cases/2").text
    assert "Decompression alone?" in html and "Correct the question or summary" in html
    empty = client.post("/cases/2/edit", data={
        "csrf_token": csrf, "question": "", "summary": "Stenosis.", "urgency": "urgent",
        "eases": "", "worsens": ""})
    assert empty.status_code == 422 and field_error(empty.text, "question")


def test_case_corrections_refused_to_a_specialist(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    assert "Correct the question or summary" not in client.get("/cases/2").text
    response = client.post("/cases/2/edit", data={
        "csrf_token": csrf, "question": "Mine?", "summary": "x", "urgency": "soon",
        "eases": "", "worsens": ""})
    assert response.status_code == 403
