"""The image archive on the case page (issue 14): a coordinator searches a real
Orthanc by patient id, sees the studies with their details and attaches one with one
button; a failing archive is a message on the page, never an error page."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.audit import AuditAction, Entity
from storage import audit, cases
from tests.archive import archive_settings, needs_orthanc, upload_study
from tests.servers import Orthanc
from tests.web.conftest import SECRET, csrf_of, sign_in
from tests.web.pages.conftest import CHAIR, COORDINATOR, HALE, database
from web.dicomweb import Archive
from web.settings import Settings

pytestmark = needs_orthanc


@pytest.fixture(scope="module")
def study_uid(orthanc: Orthanc) -> str:
    return upload_study(orthanc, patient_id="CB-PAGE-1", modality="CT",
                        study_date="20261102", description="CT lumbar spine")


@pytest.fixture
def settings(database_url: str, orthanc: Orthanc) -> Settings:
    return archive_settings(database_url, SECRET, orthanc, "iid:https://pacs.hospital.example/iid")


def test_a_coordinator_finds_a_study_and_attaches_it(
        client: TestClient, demo: None, app: Starlette, study_uid: str) -> None:
    sign_in(client, COORDINATOR)
    page = client.get("/cases/1", params={"patient_id": "CB-PAGE-1"})
    assert page.status_code == 200
    assert "Find in the image archive" in page.text and "CT lumbar spine" in page.text
    assert f'value="{study_uid}"' in page.text
    attached = client.post("/cases/1/imaging/archive", data={
        "csrf_token": csrf_of(page.text), "study_instance_uid": study_uid})
    assert "Study attached from the image archive" in attached.text
    with database(app) as session:
        link = cases.imaging(session, 1)[-1]
    assert link.url == ("https://pacs.hospital.example/iid/IHEInvokeImageDisplay"
                        f"?requestType=STUDY&studyUID={study_uid}")
    assert (link.modality.value, link.description, link.study_instance_uid) == (
        "CT", "CT lumbar spine", study_uid)


def test_nothing_found_and_a_study_gone_are_said_plainly(
        client: TestClient, demo: None, study_uid: str) -> None:
    csrf = sign_in(client, COORDINATOR)
    page = client.get("/cases/1", params={"patient_id": "CB-NOBODY"})
    assert "No studies found in the archive" in page.text
    gone = client.post("/cases/1/imaging/archive", data={
        "csrf_token": csrf, "study_instance_uid": "1.2.3.4.5.6.7"})
    assert gone.status_code == 422
    assert "The archive has no study with this Study Instance UID" in gone.text


def test_a_failing_archive_is_a_message_on_the_page(
        client: TestClient, demo: None, app: Starlette) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.state.settings = replace(app.state.settings,
                                 dicomweb=Archive(f"http://127.0.0.1:{port}/dicom-web"))
    csrf = sign_in(client, COORDINATOR)
    page = client.get("/cases/1", params={"patient_id": "CB-PAGE-1"})
    assert page.status_code == 200 and "The image archive cannot be reached" in page.text
    refused = client.post("/cases/1/imaging/archive", data={
        "csrf_token": csrf, "study_instance_uid": "1.2.840.10008.1"})
    assert refused.status_code == 422  # the page, with the reason, not an error page
    assert "The image archive cannot be reached" in refused.text


def test_the_referrer_searches_for_their_own_case_and_specialists_do_not(
        client: TestClient, demo: None, app: Starlette, study_uid: str) -> None:
    sign_in(client, HALE)
    html = client.get("/cases/7", params={"patient_id": "CB-PAGE-1"}).text
    assert "Find in the image archive" in html and "CT lumbar spine" in html
    with database(app) as session:
        searched = [e.detail for e in audit.events_for(session, entity=Entity.CASE, entity_id=7)
                    if e.action == AuditAction.SEARCHED]
    assert searched == [{"via": "archive", "patient_id": "CB-PAGE-1", "found": 1}]
    sign_in(client, CHAIR)
    html = client.get("/cases/7", params={"patient_id": "CB-PAGE-1"}).text
    assert "Imaging" in html and "Find in the image archive" not in html
