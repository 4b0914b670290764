"""The archive through the API (issue 14): coordinators search a real Orthanc over
DICOMweb and attach a study by its UID alone; the details come from the archive and
the link opens the site's viewer. Errors are gateway errors with a body, never 500."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.archive import archive_settings, needs_orthanc, upload_study
from tests.servers import Orthanc
from tests.web.api.conftest import error_of
from tests.web.conftest import SECRET
from web.dicomweb import Archive
from web.settings import Settings

pytestmark = needs_orthanc

STUDIES = "/api/v1/dicomweb/studies"
VIEWER = "ohif:https://viewer.hospital.example"
Headers = dict[str, str]


@pytest.fixture(scope="module")
def study_uid(orthanc: Orthanc) -> str:
    return upload_study(orthanc, patient_id="CB-API-1", modality="MR",
                        study_date="20261115", description="MRI lumbar spine")


@pytest.fixture
def settings(database_url: str, orthanc: Orthanc) -> Settings:
    return archive_settings(database_url, SECRET, orthanc, VIEWER)


def test_a_coordinator_finds_studies_by_patient_id(
        client: TestClient, auth: Callable[[str], Headers], study_uid: str) -> None:
    response = client.get(STUDIES, params={"PatientID": "CB-API-1"},
                          headers=auth("coordinator"))
    assert response.status_code == 200, response.text
    assert response.json() == [{"study_instance_uid": study_uid, "modality": "MR",
                                "study_date": "2026-11-15",
                                "description": "MRI lumbar spine"}]
    by_uid = client.get(STUDIES, params={"StudyInstanceUID": study_uid},
                        headers=auth("coordinator"))
    assert [s["study_instance_uid"] for s in by_uid.json()] == [study_uid]


def test_only_coordinators_search_and_a_search_needs_a_key(
        client: TestClient, auth: Callable[[str], Headers], study_uid: str) -> None:
    error_of(client.get(STUDIES, params={"PatientID": "CB-API-1"}, headers=auth("okafor")),
             403)
    error_of(client.get(STUDIES, headers=auth("coordinator")), 422)
    error_of(client.get(STUDIES, params={"StudyInstanceUID": "not-a-uid"},
                        headers=auth("coordinator")), 422)


def test_a_study_is_attached_by_its_uid_alone(
        client: TestClient, auth: Callable[[str], Headers], study_uid: str) -> None:
    response = client.post("/api/v1/cases/1/imaging", json={"study_instance_uid": study_uid},
                           headers=auth("coordinator"))
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["url"] == f"https://viewer.hospital.example/viewer?StudyInstanceUIDs={study_uid}"
    assert (link["modality"], link["study_date"], link["description"]) == (
        "MR", "2026-11-15", "MRI lumbar spine")
    unknown = client.post("/api/v1/cases/1/imaging",
                          json={"study_instance_uid": "1.2.3.4.5.6.7"},
                          headers=auth("coordinator"))
    assert error_of(unknown, 422)["details"] == {"field": "study_instance_uid"}


def test_an_archive_that_is_down_is_a_503_with_a_message(
        client: TestClient, auth: Callable[[str], Headers], app: Starlette) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.state.settings = replace(app.state.settings,
                                 dicomweb=Archive(f"http://127.0.0.1:{port}/dicom-web"))
    body = error_of(client.get(STUDIES, params={"PatientID": "CB-API-1"},
                               headers=auth("coordinator")), 503, "archive_unavailable")
    assert "cannot be reached" in body["message"]


def _case_of_request(app: Starlette, request_id: int) -> int:
    from storage.engine import session_scope
    from storage.tables import SecondOpinionRequest
    with session_scope(app.state.engine) as session:
        request = session.get(SecondOpinionRequest, request_id)
        assert request is not None
        return request.case_id


def test_searches_are_on_the_audit_trail(
        client: TestClient, auth: Callable[[str], Headers], people: dict[str, int],
        study_uid: str) -> None:
    client.get(STUDIES, params={"PatientID": "CB-API-1"}, headers=auth("coordinator"))
    trail = client.get("/api/v1/audit", params={"entity": "user", "id": people["coordinator"]},
                       headers=auth("coordinator")).json()
    (searched,) = [e for e in trail if e["action"] == "searched"]
    assert searched["detail"] == {"via": "archive", "patient_id": "CB-API-1", "found": 1}


def test_a_referrer_searches_and_attaches_for_their_own_case(
        client: TestClient, auth: Callable[[str], Headers], app: Starlette,
        request_ids: dict[str, int], study_uid: str) -> None:
    own = _case_of_request(app, request_ids["submitted"])
    hale = auth("hale")
    found = client.get(f"/api/v1/cases/{own}/dicomweb/studies",
                       params={"PatientID": "CB-API-1"}, headers=hale)
    assert found.status_code == 200, found.text
    assert [s["study_instance_uid"] for s in found.json()] == [study_uid]
    attached = client.post(f"/api/v1/cases/{own}/imaging",
                           json={"study_instance_uid": study_uid}, headers=hale)
    assert attached.status_code == 201, attached.text
    trail = client.get("/api/v1/audit", params={"entity": "case", "id": own},
                       headers=auth("coordinator")).json()
    assert [e["detail"] for e in trail if e["action"] == "searched"] == [
        {"via": "archive", "patient_id": "CB-API-1", "found": 1}]
    # Not for anyone else's case, and not the archive at large.
    error_of(client.get(f"/api/v1/cases/{own + 100}/dicomweb/studies",
                        params={"PatientID": "CB-API-1"}, headers=hale), 404)
    error_of(client.get(STUDIES, params={"PatientID": "CB-API-1"}, headers=hale), 403)
    error_of(client.get(f"/api/v1/cases/{own}/dicomweb/studies",
                        params={"PatientID": "CB-API-1"}, headers=auth("okafor")), 404)
