from datetime import date

import pytest
from sqlmodel import Session

from conference.audit import AuditAction, Entity
from conference.cases import TreatmentKind, Urgency
from conference.errors import ImagingLinkRejected, InvalidInput, NotFound, PermissionDenied
from conference.imaging import Modality
from conference.people import Role, Specialty
from storage import audit, cases, referrals
from storage.cases import ImagingPolicy
from tests import factories
from tests.factories import id_of


def test_case_stored_with_history_of_care_in_order(session: Session) -> None:
    coord = factories.coordinator(session)
    c = factories.case(session, coord, eases="Sitting, flexion", worsens="Walking > 200 m")
    session.commit()
    history = cases.care_history(session, id_of(c))
    assert [h.kind for h in history] == [TreatmentKind.PHYSICAL_THERAPY, TreatmentKind.INJECTION]
    assert history[1].notes == "Relief lasted three weeks"
    assert (c.eases, c.worsens) == ("Sitting, flexion", "Walking > 200 m")


def test_case_invalid_history_saves_nothing(session: Session) -> None:
    from conference.cases import CareEntry, TreatmentResponse

    coord = factories.coordinator(session)
    bad = CareEntry(TreatmentKind.MEDICATION, "NSAIDs", date(2026, 5, 1), date(2026, 4, 1),
                    TreatmentResponse.WORSE)
    with pytest.raises(InvalidInput) as err:
        factories.case(session, coord, care_history=(bad,))
    assert err.value.field == "care_history[0].ended_on"
    assert cases.visible_cases(session, viewer=coord) == []


def test_case_patient_name_refused(session: Session) -> None:
    coord = factories.coordinator(session)
    with pytest.raises(InvalidInput) as err:
        factories.case(session, coord, patient_ref="Maria Gonzalez")
    assert err.value.field == "patient_ref"


def test_case_view_is_audited(session: Session) -> None:
    coord = factories.coordinator(session)
    c = factories.case(session, coord)
    cases.view_case(session, viewer=coord, case_id=id_of(c))
    events = audit.events_for(session, entity=Entity.CASE, entity_id=id_of(c))
    assert [e.action for e in events] == [AuditAction.CREATED, AuditAction.VIEWED]
    assert events[1].actor_id == coord.id


def test_case_visibility(session: Session) -> None:
    coord = factories.coordinator(session)
    chair, member, outsider = (factories.user(session) for _ in range(3))
    gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    other_gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    request = referrals.submit(session, actor=gp, details=factories.details(),
                               requested_specialties=[Specialty.NEUROSURGERY])
    conf = factories.conference(session, coord, chair)
    factories.member(session, coord, conf, member)
    referrals.schedule(session, actor=coord, request_id=id_of(request), conference_id=id_of(conf),
                       planned_minutes=15)
    for viewer in (coord, chair, member, gp):
        assert cases.view_case(session, viewer=viewer, case_id=request.case_id).id == (
            request.case_id)
        assert [c.id for c in cases.visible_cases(session, viewer=viewer)] == [request.case_id]
    for viewer in (outsider, other_gp):
        with pytest.raises(NotFound):
            cases.view_case(session, viewer=viewer, case_id=request.case_id)
        assert cases.visible_cases(session, viewer=viewer) == []


def test_imaging_added_and_listed(session: Session) -> None:
    coord = factories.coordinator(session)
    c = factories.case(session, coord)
    link = cases.add_imaging(session, actor=coord, case_id=id_of(c),
                             url="https://pacs.example.org/viewer?study=1.2.3",
                             modality=Modality.MR, study_date=date(2026, 9, 14),
                             description="Lumbar MRI without contrast",
                             study_instance_uid="1.2.840.113619.2.55.3")
    assert [i.id for i in cases.imaging(session, id_of(c))] == [link.id]
    assert link.study_instance_uid == "1.2.840.113619.2.55.3"


@pytest.mark.parametrize(("url", "reason"), [
    ("javascript:alert(1)", "scheme_not_allowed"),
    ("http://pacs.example.org/x", "insecure_scheme"),
    ("https://u:p@pacs.example.org/x", "credentials_in_url"),
    ("https://elsewhere.example.com/x", "host_not_allowed"),
])
def test_imaging_rejected_saves_nothing(session: Session, url: str, reason: str) -> None:
    coord = factories.coordinator(session)
    c = factories.case(session, coord)
    policy = ImagingPolicy(allowed_hosts=frozenset({"pacs.example.org"}))
    with pytest.raises(ImagingLinkRejected) as err:
        cases.add_imaging(session, actor=coord, case_id=id_of(c), url=url, modality=Modality.CT,
                          policy=policy)
    assert err.value.reason == reason
    assert cases.imaging(session, id_of(c)) == []


def test_imaging_future_study_and_bad_uid_rejected(session: Session) -> None:
    coord = factories.coordinator(session)
    c = factories.case(session, coord)
    with pytest.raises(InvalidInput):
        cases.add_imaging(session, actor=coord, case_id=id_of(c), url="https://p.example.org/",
                          modality=Modality.MR, study_date=date(2099, 1, 1))
    with pytest.raises(InvalidInput):
        cases.add_imaging(session, actor=coord, case_id=id_of(c), url="https://p.example.org/",
                          modality=Modality.MR, study_instance_uid="not-a-uid")


def test_imaging_who_may_add(session: Session) -> None:
    coord = factories.coordinator(session)
    gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    other_gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    request = referrals.submit(session, actor=gp, details=factories.details(),
                               requested_specialties=[Specialty.PAIN_MEDICINE])
    cases.add_imaging(session, actor=gp, case_id=request.case_id,
                      url="https://pacs.example.org/a", modality=Modality.XR)
    with pytest.raises(NotFound):
        cases.add_imaging(session, actor=other_gp, case_id=request.case_id,
                          url="https://pacs.example.org/a", modality=Modality.XR)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair)
    referrals.schedule(session, actor=coord, request_id=id_of(request), conference_id=id_of(conf),
                       planned_minutes=10)
    with pytest.raises(PermissionDenied):
        cases.add_imaging(session, actor=chair, case_id=request.case_id,
                          url="https://pacs.example.org/a", modality=Modality.XR)


def test_case_history_of_care_grows(session: Session) -> None:
    from conference.cases import CareEntry, TreatmentResponse

    coord = factories.coordinator(session)
    gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    request = referrals.submit(session, actor=gp, details=factories.details(),
                               requested_specialties=[Specialty.NEUROSURGERY])
    entry = CareEntry(TreatmentKind.MEDICATION, "Duloxetine 30 mg", date(2026, 10, 1), None,
                      TreatmentResponse.IMPROVED, notes="Sleeping better")
    row = cases.add_care_entry(session, actor=gp, case_id=request.case_id, entry=entry)
    assert row.position == 2
    cases.add_care_entry(session, actor=coord, case_id=request.case_id, entry=entry)
    assert [h.description for h in cases.care_history(session, request.case_id)][-2:] == [
        "Duloxetine 30 mg", "Duloxetine 30 mg"]
    events = audit.events_for(session, entity=Entity.CASE, entity_id=request.case_id)
    assert events[-1].detail == {"care_history": "medication", "position": 3}
    bad = CareEntry(TreatmentKind.SURGERY, "Fusion", date(2026, 5, 2), date(2026, 5, 1),
                    TreatmentResponse.UNKNOWN)
    with pytest.raises(InvalidInput) as err:
        cases.add_care_entry(session, actor=coord, case_id=request.case_id, entry=bad)
    assert err.value.field == "care_history[4].ended_on"
    other_gp = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    with pytest.raises(NotFound):
        cases.add_care_entry(session, actor=other_gp, case_id=request.case_id, entry=entry)


def test_case_corrected_until_a_decision_is_signed(session: Session) -> None:
    from conference.decision import DecisionContent
    from conference.decision_outcomes import Outcome
    from conference.errors import Conflict
    from storage import decisions

    coord = factories.coordinator(session)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair)
    item = factories.item(session, coord, conf)
    with pytest.raises(PermissionDenied):
        cases.update_case(session, actor=chair, case_id=item.case_id, changes={"question": "?"})
    case = cases.update_case(session, actor=coord, case_id=item.case_id,
                             changes={"question": " Decompress now? ", "urgency": Urgency.URGENT})
    assert (case.question, case.urgency) == ("Decompress now?", Urgency.URGENT)
    assert audit.events_for(session, entity=Entity.CASE, entity_id=id_of(case))[-1].detail == {
        "fields": ["question", "urgency"]}
    with pytest.raises(InvalidInput) as err:
        cases.update_case(session, actor=coord, case_id=id_of(case), changes={"summary": " "})
    assert err.value.field == "summary"
    with pytest.raises(InvalidInput):
        cases.update_case(session, actor=coord, case_id=id_of(case), changes={"patient_ref": "X1"})
    factories.held(session, conf, item)
    decisions.save_draft(session, actor=chair, item_id=id_of(item), read_version=0,
                         content=DecisionContent(Outcome.OTHER, "r", "p", 2, (id_of(chair),)))
    decisions.sign(session, actor=chair, item_id=id_of(item))
    with pytest.raises(Conflict) as conflict:
        cases.update_case(session, actor=coord, case_id=id_of(case), changes={"question": "Else?"})
    assert conflict.value.code == "case_decided"
