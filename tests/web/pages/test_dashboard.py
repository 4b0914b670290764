from starlette.testclient import TestClient

from tests.web.conftest import sign_in
from tests.web.pages.conftest import ADMIN, CHAIR, COORDINATOR, HALE


def test_dashboard_sends_strangers_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_dashboard_coordinator_sees_queue_and_agenda_timing(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    html = client.get("/").text
    assert "1</strong> request to triage" in html
    assert "105</strong> of 90 minutes planned" in html and "over by 15 min" in html
    assert "SPN-2026-0155" in html


def test_dashboard_specialist_sees_their_conferences_and_cases_to_pre_read(client: TestClient,
                                                                           demo: None) -> None:
    sign_in(client, CHAIR)
    html = client.get("/").text
    assert "Your conferences and cases to pre-read" in html
    assert "Weekly multidisciplinary spine conference" in html
    assert "7 to pre-read" in html and 'href="/cases/1"' in html
    assert "request to triage" not in html


def test_dashboard_referring_clinician_sees_each_request_with_its_steps(client: TestClient,
                                                                        demo: None) -> None:
    sign_in(client, HALE)
    html = client.get("/").text
    assert "Your second-opinion requests" in html
    assert "RRC-88412" in html and "RRC-88530" in html
    assert html.count('class="steps compact"') == 2
    assert "Scheduled" in html and "(not yet)" in html


def test_dashboard_admin_sees_people(client: TestClient, demo: None) -> None:
    sign_in(client, ADMIN)
    html = client.get("/").text
    assert "9</strong> people" in html and 'href="/admin/people"' in html
