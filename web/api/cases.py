"""Cases: create one with its history of care, read it (audited), link imaging."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from conference.errors import InvalidInput, NotFound
from conference.permissions import require_organiser
from storage import cases, decisions
from storage.tables import Case, DecisionRevision
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import (
    CareEntryIn,
    CaseIn,
    CasePatch,
    Empty,
    ImagingOrStudyIn,
    StudyQuery,
)
from web.api.views import (
    CareEntryView,
    CaseSummary,
    CaseView,
    ImagingView,
    RevisionView,
    StudyView,
)
from web.dicomweb import ImagingDetails, attach_study, search_archive
from web.settings import Settings


def revision_view(row: DecisionRevision | None) -> RevisionView | None:
    return RevisionView.model_validate(row) if row is not None else None


def case_view(session: Session, case: Case) -> CaseView:
    assert case.id is not None
    return CaseView(
        **CaseSummary.model_validate(case).model_dump(),
        summary=case.summary, eases=case.eases, worsens=case.worsens,
        created_by_id=case.created_by_id,
        care_history=[CareEntryView.model_validate(e)
                      for e in cases.care_history(session, case.id)],
        imaging=[ImagingView.model_validate(i) for i in cases.imaging(session, case.id)],
        decision=revision_view(decisions.latest_signed_for_case(session, case.id)),
    )


def create_case(call: Call[CaseIn]) -> CaseView:
    # Referring clinicians create cases through POST /requests, coordinators here.
    require_organiser(call.user.role, "create a case")
    case = cases.create_case(call.session, actor=call.user, details=call.body.to_domain())
    return case_view(call.session, case)


def list_cases(call: Call[Empty]) -> list[CaseSummary]:
    return [CaseSummary.model_validate(c)
            for c in cases.visible_cases(call.session, viewer=call.user)]


def get_case(call: Call[Empty]) -> CaseView:
    case = cases.view_case(call.session, viewer=call.user, case_id=call.id())
    return case_view(call.session, case)


def _settings(call: Call[Any]) -> Settings:
    settings = call.request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def add_imaging(call: Call[ImagingOrStudyIn]) -> ImagingView:
    settings, body = _settings(call), call.body
    if body.url is not None and body.modality is not None:
        link = cases.add_imaging(
            call.session, actor=call.user, case_id=call.id(), url=body.url,
            modality=body.modality, study_date=body.study_date, description=body.description,
            study_instance_uid=body.study_instance_uid, policy=settings.imaging_policy())
        return ImagingView.model_validate(link)
    if body.study_instance_uid is None or settings.dicomweb is None or settings.viewer is None:
        raise InvalidInput("Give the viewer link and modality, or (with an image archive "
                           "configured) the study's Study Instance UID.", field="url")
    link = attach_study(
        call.session, actor=call.user, case_id=call.id(),
        study_instance_uid=body.study_instance_uid, archive=settings.dicomweb,
        viewer=settings.viewer, policy=settings.imaging_policy(),
        details=ImagingDetails(url=body.url, modality=body.modality,
                               study_date=body.study_date, description=body.description))
    return ImagingView.model_validate(link)


def _archive_studies(call: Call[Empty], case_id: int | None) -> list[StudyView]:
    query = read_query(call.request.query_params, StudyQuery)
    archive = _settings(call).dicomweb
    if archive is None:
        raise NotFound("No image archive is configured (CASEBRIDGE_DICOMWEB_URL).")
    found = search_archive(call.session, actor=call.user, archive=archive, case_id=case_id,
                           patient_id=query.patient_id,
                           study_instance_uid=query.study_instance_uid)
    return [StudyView(study_instance_uid=s.study_instance_uid, modality=s.modality,
                      study_date=s.study_date, description=s.description) for s in found]


def search_studies(call: Call[Empty]) -> list[StudyView]:
    return _archive_studies(call, None)


def search_studies_for_case(call: Call[Empty]) -> list[StudyView]:
    return _archive_studies(call, call.id())


def update_case(call: Call[CasePatch]) -> CaseView:
    case = cases.update_case(call.session, actor=call.user, case_id=call.id(),
                             changes=call.body.changes())
    return case_view(call.session, case)


def add_care_entry(call: Call[CareEntryIn]) -> CareEntryView:
    row = cases.add_care_entry(call.session, actor=call.user, case_id=call.id(),
                               entry=call.body.to_domain())
    return CareEntryView.model_validate(row)


TAG = "cases"
routes = [
    operation("POST", "/cases", create_case, body=CaseIn, tag=TAG, status=201,
              summary="Create a case with its history of care (coordinators)",
              response=CaseView),
    operation("GET", "/cases", list_cases, body=Empty, tag=TAG, many=True,
              summary="Cases you may open, newest first", response=CaseSummary),
    operation("GET", "/cases/{id:int}", get_case, body=Empty, tag=TAG,
              summary="One case with care history, imaging and its latest signed decision "
                      "(every read is audited)", response=CaseView),
    operation("PATCH", "/cases/{id:int}", update_case, body=CasePatch, tag=TAG,
              response=CaseView, summary="Correct the summary, question, urgency or what eases "
              "and worsens the pain (coordinators, the referring clinician; until signed)"),
    operation("POST", "/cases/{id:int}/care-history", add_care_entry, body=CareEntryIn,
              tag=TAG, status=201, response=CareEntryView,
              summary="Add a treatment to the history of care (coordinators, the referring "
                      "clinician)"),
    operation("GET", "/dicomweb/studies", search_studies, body=Empty, query=StudyQuery,
              tag=TAG, many=True, response=StudyView,
              summary="Studies in the hospital's image archive by PatientID or "
                      "StudyInstanceUID (coordinators; CASEBRIDGE_DICOMWEB_URL; audited)"),
    operation("GET", "/cases/{id:int}/dicomweb/studies", search_studies_for_case, body=Empty,
              query=StudyQuery, tag=TAG, many=True, response=StudyView,
              summary="Studies in the image archive, searched to add to this case "
                      "(coordinators, the referring clinician; audited on the case)"),
    operation("POST", "/cases/{id:int}/imaging", add_imaging, body=ImagingOrStudyIn, tag=TAG,
              status=201, response=ImagingView,
              summary="Link a study in the hospital's viewer (https only; allow-listed hosts)"),
]
