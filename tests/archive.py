"""A real image archive for the DICOMweb tests: studies made with pydicom and uploaded
to a private Orthanc (``tests.servers.private_orthanc``), and the settings that point
Casebridge at it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

from tests.servers import ORTHANC_DICOMWEB_PLUGIN, Orthanc
from web.dicomweb import Archive, Viewer
from web.settings import Settings

needs_orthanc = pytest.mark.skipif(
    shutil.which("Orthanc") is None or not Path(ORTHANC_DICOMWEB_PLUGIN).exists(),
    reason="DICOMWEB TEST NOT RUN: Orthanc and its DICOMweb plugin are not installed "
           "(scripts/prepare installs orthanc and orthanc-dicomweb)")


def instance(*, patient_id: str, study_uid: str, modality: str, study_date: str,
             description: str) -> bytes:
    """One small image of a study, as a modality would send it to the archive."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sop_class = MRImageStorage if modality == "MR" else CTImageStorage
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.PatientName = patient_id, "Pseudonymous"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.Modality, ds.StudyDate, ds.StudyDescription = modality, study_date, description
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = bytes(64)
    out = io.BytesIO()
    dcmwrite(out, ds, enforce_file_format=True)
    return out.getvalue()


def upload_study(orthanc: Orthanc, *, patient_id: str, modality: str, study_date: str,
                 description: str) -> str:
    """A new study in the archive; returns its Study Instance UID."""
    uid = str(generate_uid())
    orthanc.upload(instance(patient_id=patient_id, study_uid=uid, modality=modality,
                            study_date=study_date, description=description))
    return uid


def archive_settings(database_url: str, secret_key: str, orthanc: Orthanc,
                     viewer: str) -> Settings:
    """The app's settings with the archive and a viewer configured."""
    return Settings(database_url=database_url, secret_key=secret_key,
                    dicomweb=Archive.from_url(orthanc.dicomweb_url),
                    viewer=Viewer.parse(viewer))
