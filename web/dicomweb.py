"""Studies from the hospital's image archive over DICOMweb QIDO-RS (DICOM PS3.18 10.6).

With ``CASEBRIDGE_DICOMWEB_URL`` set, a coordinator (or the referring clinician, for
their own case) finds a patient's studies in the archive instead of pasting links, each
search on the audit trail: the modality, date and description come from the
archive, and the viewer link is built for the site's viewer (``CASEBRIDGE_VIEWER``).
Responses are DICOM JSON (PS3.18 F.2), read with pydicom. Every way the archive can
fail (down, slow, refusing our credentials, answering nonsense) becomes one
``ArchiveUnavailable`` with a message a coordinator can act on; nothing is stored
from a failed search.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote, urlsplit, urlunsplit

import httpx2
from pydicom import Dataset
from sqlmodel import Session

from conference.audit import AuditAction, Entity
from conference.errors import ArchiveUnavailable, InvalidInput
from conference.imaging import Modality, check_study_instance_uid
from conference.permissions import require_organiser
from storage import audit, cases
from storage.cases import ImagingPolicy
from storage.tables import ImagingLink, User

__all__ = ["Archive", "ImagingDetails", "Study", "Viewer", "attach_study", "search_archive"]

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_STUDIES = 100
# Asked for by name, one includefield each (PS3.18 8.3.4.3); the UID always comes.
_FIELDS = ("ModalitiesInStudy", "StudyDate", "StudyDescription")


@dataclass(frozen=True)
class Study:
    """One study as the archive describes it."""

    study_instance_uid: str
    modality: Modality
    study_date: date | None
    description: str


@dataclass(frozen=True)
class Archive:
    """The archive's DICOMweb base URL (credentials, if any, kept apart)."""

    base_url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_url(cls, url: str) -> Archive:
        """From ``CASEBRIDGE_DICOMWEB_URL``; ``https://user:password@host/dicom-web``
        gives HTTP basic credentials, which never appear in logs or messages."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("CASEBRIDGE_DICOMWEB_URL is an http(s) URL of the archive's "
                             "DICOMweb root, e.g. https://pacs.hospital.example/dicom-web")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        return cls(base, parts.username, parts.password)

    def search(self, *, patient_id: str | None = None,
               study_instance_uid: str | None = None) -> list[Study]:
        """QIDO-RS ``/studies`` by patient id or study UID (at least one)."""
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("includefield", name) for name in _FIELDS]
        params.append(("limit", str(MAX_STUDIES)))
        if patient_id:
            params.append(("PatientID", patient_id))
        if study_instance_uid:
            params.append(("StudyInstanceUID", check_study_instance_uid(study_instance_uid)))
        if not patient_id and not study_instance_uid:
            raise InvalidInput("Search the archive by PatientID or StudyInstanceUID.",
                               field="PatientID")
        auth = (self.username, self.password or "") if self.username else None
        try:
            response = httpx2.get(f"{self.base_url}/studies", params=params, auth=auth,
                                  headers={"Accept": "application/dicom+json"},
                                  timeout=self.timeout)
        except httpx2.TimeoutException as exc:
            raise ArchiveUnavailable(f"The image archive did not answer within "
                                     f"{self.timeout:.0f} s.", gateway_status=504) from exc
        except httpx2.HTTPError as exc:
            log.warning("DICOMweb archive unreachable: %s", type(exc).__name__)
            raise ArchiveUnavailable("The image archive cannot be reached.",
                                     gateway_status=503) from exc
        return _studies(response)

    def find(self, study_instance_uid: str) -> Study:
        """The one study with this UID, or ``InvalidInput`` if the archive has none."""
        found = self.search(study_instance_uid=study_instance_uid)
        if not found:
            raise InvalidInput("The archive has no study with this Study Instance UID.",
                               field="study_instance_uid")
        return found[0]


def _studies(response: httpx2.Response) -> list[Study]:
    if response.status_code == 204:  # QIDO-RS: no match
        return []
    if response.status_code in (401, 403):
        raise ArchiveUnavailable("The image archive refused Casebridge's credentials "
                                 f"({response.status_code}); ask IT to check "
                                 "CASEBRIDGE_DICOMWEB_URL.", gateway_status=502)
    if response.status_code != 200:
        raise ArchiveUnavailable(f"The image archive answered {response.status_code}.",
                                 gateway_status=502)
    try:
        items = response.json()
        if not isinstance(items, list):
            raise ValueError("not a list")
        studies = [_study(Dataset.from_json(item)) for item in items]
    except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
        raise ArchiveUnavailable("The image archive answered something that is not "
                                 "DICOM JSON.", gateway_status=502) from exc
    # Newest first, as a clinician reads a history; undated studies last.
    return sorted(studies, key=lambda s: s.study_date or date.min, reverse=True)


def _study(ds: Dataset) -> Study:
    uid = str(ds.StudyInstanceUID)
    modalities = ds.get("ModalitiesInStudy", "")
    codes = [str(m) for m in modalities] if not isinstance(modalities, str) else [modalities]
    return Study(study_instance_uid=check_study_instance_uid(uid),
                 modality=_modality(codes), study_date=_date(ds.get("StudyDate", "")),
                 description=str(ds.get("StudyDescription", ""))[:200])


def _modality(codes: list[str]) -> Modality:
    """The study's main modality: cross-sectional imaging first, as the panel reads it."""
    for preferred in ("MR", "CT", "NM", "PT", "CR", "DX", "US"):
        if preferred in codes:
            return Modality(preferred)
    return Modality.OTHER


def _date(value: object) -> date | None:
    try:
        return datetime.strptime(str(value), "%Y%m%d").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class Viewer:
    """How the site's viewer opens a study (``CASEBRIDGE_VIEWER``):

    * ``ohif:BASE``: OHIF, ``BASE/viewer?StudyInstanceUIDs=<uid>``;
    * ``iid:BASE``: IHE Invoke Image Display,
      ``BASE/IHEInvokeImageDisplay?requestType=STUDY&studyUID=<uid>``;
    * a URL template containing ``{study_uid}``.
    """

    template: str

    @classmethod
    def parse(cls, text: str) -> Viewer:
        kind, _, base = text.partition(":")
        if kind == "ohif" and base:
            return cls(base.rstrip("/") + "/viewer?StudyInstanceUIDs={study_uid}")
        if kind == "iid" and base:
            return cls(base.rstrip("/") +
                       "/IHEInvokeImageDisplay?requestType=STUDY&studyUID={study_uid}")
        if "{study_uid}" in text and text.startswith(("https://", "http://")):
            return cls(text)
        raise ValueError("CASEBRIDGE_VIEWER is ohif:BASE, iid:BASE or a URL with "
                         "{study_uid} in it.")

    def link(self, study_instance_uid: str) -> str:
        return self.template.replace("{study_uid}", quote(study_instance_uid, safe=""))


def search_archive(session: Session, *, actor: User, archive: Archive,
                   patient_id: str | None = None, study_instance_uid: str | None = None,
                   case_id: int | None = None) -> list[Study]:
    """Search the archive on someone's behalf, and put the search on the audit trail.

    For a case (``case_id``), whoever may add its imaging may search: a coordinator,
    or the referring clinician for their own request. Without a case, coordinators
    only. The trail keeps what was asked and how many studies came back, on the case
    (or, without one, on the person who searched): a PatientID search shows a
    patient's studies, so it is accounted for like a read. A failed search discloses
    nothing and is not recorded."""
    if case_id is not None:
        cases.require_editable(session, actor, case_id, "search the image archive")
    else:
        require_organiser(actor.role, "search the image archive")
    found = archive.search(patient_id=patient_id, study_instance_uid=study_instance_uid)
    asked = {k: v for k, v in (("patient_id", patient_id),
                               ("study_instance_uid", study_instance_uid)) if v}
    assert actor.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.SEARCHED,
                 entity=Entity.CASE if case_id is not None else Entity.USER,
                 entity_id=case_id if case_id is not None else actor.id, case_id=case_id,
                 detail={"via": "archive", **asked, "found": len(found)})
    return found


def attach_study(session: Session, *, actor: User, case_id: int, study_instance_uid: str,
                 archive: Archive, viewer: Viewer, policy: ImagingPolicy,
                 details: ImagingDetails | None = None) -> ImagingLink:
    """Attach a study from the archive to a case: the link opens the site's viewer,
    the modality, date and description come from the archive unless ``details``
    (what a coordinator typed) says otherwise. Who may add imaging is checked first,
    so the archive is not asked on behalf of someone who may not."""
    cases.require_editable(session, actor, case_id, "add imaging")
    study = archive.find(study_instance_uid)
    given = details or ImagingDetails()
    return cases.add_imaging(
        session, actor=actor, case_id=case_id,
        url=given.url or viewer.link(study.study_instance_uid),
        modality=given.modality or study.modality,
        study_date=given.study_date or study.study_date,
        description=given.description or study.description,
        study_instance_uid=study.study_instance_uid, policy=policy)


@dataclass(frozen=True)
class ImagingDetails:
    """What a person typed beside a Study Instance UID; empty fields come from the archive."""

    url: str | None = None
    modality: Modality | None = None
    study_date: date | None = None
    description: str = ""
