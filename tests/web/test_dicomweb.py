"""Studies from a real Orthanc archive over DICOMweb QIDO-RS (issue 14): found by
pseudonymous patient id or by Study Instance UID, details read from the archive, and
every way the archive fails turned into one clear error (never a 500)."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from conference.errors import ArchiveUnavailable, InvalidInput
from conference.imaging import Modality
from tests.archive import needs_orthanc, upload_study
from tests.servers import Orthanc
from web.dicomweb import Archive, Viewer

pytestmark = needs_orthanc


@pytest.fixture(scope="module")
def studies(orthanc: Orthanc) -> dict[str, str]:
    uids = {"mri": upload_study(orthanc, patient_id="CB-7F3A", modality="MR",
                                study_date="20261120", description="MRI lumbar spine"),
            "ct": upload_study(orthanc, patient_id="CB-7F3A", modality="CT",
                               study_date="20260301", description="CT L-spine")}
    upload_study(orthanc, patient_id="CB-OTHER", modality="MR", study_date="20260101",
                 description="Someone else")
    return uids


def test_studies_are_found_by_patient_id(orthanc: Orthanc, studies: dict[str, str]) -> None:
    archive = Archive.from_url(orthanc.dicomweb_url)
    listed = archive.search(patient_id="CB-7F3A")
    assert [s.study_instance_uid for s in listed] == [studies["mri"], studies["ct"]]  # newest
    found = {s.study_instance_uid: s for s in listed}
    mri = found[studies["mri"]]
    assert (mri.modality, mri.study_date, mri.description) == (
        Modality.MR, date(2026, 11, 20), "MRI lumbar spine")
    assert found[studies["ct"]].modality is Modality.CT


def test_a_study_is_found_by_its_uid_and_an_unknown_one_is_not(
        orthanc: Orthanc, studies: dict[str, str]) -> None:
    archive = Archive.from_url(orthanc.dicomweb_url)
    assert archive.find(studies["ct"]).description == "CT L-spine"
    assert archive.search(patient_id="CB-NOBODY") == []
    with pytest.raises(InvalidInput) as error:
        archive.find("1.2.3.4.5.6")
    assert error.value.field == "study_instance_uid"


def test_wrong_credentials_are_a_gateway_error_that_names_the_setting(
        orthanc: Orthanc, studies: dict[str, str]) -> None:
    archive = Archive.from_url(orthanc.dicomweb_url.replace("archive-password", "wrong"))
    with pytest.raises(ArchiveUnavailable) as error:
        archive.search(patient_id="CB-7F3A")
    assert error.value.gateway_status == 502
    assert "CASEBRIDGE_DICOMWEB_URL" in error.value.message
    assert "wrong" not in error.value.message and "wrong" not in repr(archive)


def test_an_answer_that_is_not_dicom_json_is_a_gateway_error(
        orthanc: Orthanc, studies: dict[str, str]) -> None:
    # Orthanc's own REST API (not DICOMweb) answers /studies with a list of its ids.
    url = orthanc.dicomweb_url.removesuffix("/dicom-web")
    with pytest.raises(ArchiveUnavailable) as error:
        Archive.from_url(url).search(patient_id="CB-7F3A")
    assert error.value.gateway_status == 502


def test_an_archive_that_is_down_or_silent_is_503_or_504() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ArchiveUnavailable) as down:
        Archive.from_url(f"http://127.0.0.1:{port}/dicom-web").search(patient_id="X")
    assert down.value.gateway_status == 503
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        archive = Archive(f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web",
                          timeout=0.5)
        with pytest.raises(ArchiveUnavailable) as slow:
            archive.search(patient_id="X")
    assert slow.value.gateway_status == 504


def test_viewer_links_for_ohif_iid_and_a_template() -> None:
    uid = "1.2.840.113619.2.55.3"
    assert Viewer.parse("ohif:https://viewer.hospital.example/").link(uid) == \
        f"https://viewer.hospital.example/viewer?StudyInstanceUIDs={uid}"
    assert Viewer.parse("iid:https://pacs.hospital.example/iid").link(uid) == \
        f"https://pacs.hospital.example/iid/IHEInvokeImageDisplay?requestType=STUDY&studyUID={uid}"
    assert Viewer.parse("https://pacs.example/open?study={study_uid}").link(uid) == \
        f"https://pacs.example/open?study={uid}"
    with pytest.raises(ValueError):
        Viewer.parse("javascript:{study_uid}")
