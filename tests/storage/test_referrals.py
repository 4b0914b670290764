
import pytest
from sqlmodel import Session

from conference.audit import Entity
from conference.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from conference.people import Role, Specialty
from conference.referrals import RequestStatus
from storage import audit, referrals
from storage.tables import SecondOpinionRequest, User
from tests import factories
from tests.factories import id_of


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return dict(
        coord=factories.coordinator(session),
        gp=factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE),
        other_gp=factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE),
        spec=factories.user(session),
    )


def submit(session: Session, who: User) -> SecondOpinionRequest:
    return referrals.submit(session, actor=who, details=factories.details(),
                            requested_specialties=[Specialty.NEUROSURGERY,
                                                   Specialty.PAIN_MEDICINE])


def test_request_submitted_creates_the_case(session: Session, people: dict[str, User]) -> None:
    r = submit(session, people["gp"])
    assert r.status is RequestStatus.SUBMITTED and r.submitted_at is not None
    assert r.requested_specialties == ["neurosurgery", "pain_medicine"]
    assert [q.id for q in referrals.queue(session)] == [r.id]
    assert audit.events_for(session, entity=Entity.REQUEST, entity_id=id_of(r))


def test_request_needs_specialties_and_a_clinician(session: Session, people: dict[str, User]
                                                   ) -> None:
    with pytest.raises(InvalidInput):
        referrals.submit(session, actor=people["gp"], details=factories.details(),
                         requested_specialties=[])
    with pytest.raises(PermissionDenied):
        submit(session, people["spec"])


def test_request_accept_then_schedule(session: Session, people: dict[str, User]) -> None:
    r = submit(session, people["gp"])
    referrals.accept(session, actor=people["coord"], request_id=id_of(r))
    assert r.status is RequestStatus.ACCEPTED and r.accepted_at is not None
    conf = factories.conference(session, people["coord"], people["spec"])
    r, item = referrals.schedule(session, actor=people["coord"], request_id=id_of(r),
                                 conference_id=id_of(conf), planned_minutes=20)
    assert (r.status, r.agenda_item_id, item.case_id) == (RequestStatus.SCHEDULED, item.id,
                                                          r.case_id)
    assert referrals.queue(session) == []


def test_request_schedule_accepts_a_submitted_one(session: Session, people: dict[str, User]
                                                  ) -> None:
    r = submit(session, people["gp"])
    conf = factories.conference(session, people["coord"], people["spec"])
    referrals.schedule(session, actor=people["coord"], request_id=id_of(r),
                       conference_id=id_of(conf), planned_minutes=20)
    assert r.accepted_at is not None and r.scheduled_at is not None


def test_request_decline_needs_reason_and_is_final(session: Session, people: dict[str, User]
                                                   ) -> None:
    r = submit(session, people["gp"])
    with pytest.raises(InvalidInput):
        referrals.decline(session, actor=people["coord"], request_id=id_of(r), reason="")
    referrals.decline(session, actor=people["coord"], request_id=id_of(r),
                      reason="Needs an MRI first; please attach it and resubmit.")
    assert r.status is RequestStatus.DECLINED and r.declined_at is not None
    conf = factories.conference(session, people["coord"], people["spec"])
    with pytest.raises(IllegalTransition):
        referrals.schedule(session, actor=people["coord"], request_id=id_of(r),
                           conference_id=id_of(conf), planned_minutes=20)
    with pytest.raises(IllegalTransition):
        referrals.accept(session, actor=people["coord"], request_id=id_of(r))


def test_request_only_coordinators_work_the_queue(session: Session, people: dict[str, User]
                                                  ) -> None:
    r = submit(session, people["gp"])
    with pytest.raises(PermissionDenied):
        referrals.accept(session, actor=people["gp"], request_id=id_of(r))
    with pytest.raises(PermissionDenied):
        referrals.decline(session, actor=people["spec"], request_id=id_of(r), reason="no")


def test_request_visible_only_to_its_clinician(session: Session, people: dict[str, User]) -> None:
    r = submit(session, people["gp"])
    assert referrals.view_request(session, viewer=people["gp"], request_id=id_of(r)) is r
    assert referrals.view_request(session, viewer=people["coord"], request_id=id_of(r)) is r
    with pytest.raises(NotFound):
        referrals.view_request(session, viewer=people["other_gp"], request_id=id_of(r))
    assert referrals.requests_of(session, viewer=people["other_gp"]) == []
    assert [x.id for x in referrals.requests_of(session, viewer=people["gp"])] == [r.id]
    with pytest.raises(NotFound):
        referrals.get_request(session, 9999)


def test_request_turnaround_summary(session: Session, people: dict[str, User]) -> None:
    from datetime import UTC, datetime, timedelta

    from conference.decision import DecisionContent
    from conference.decision_outcomes import Outcome
    from storage import decisions

    assert referrals.turnaround_summary(session) == (0, None)
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    r = referrals.submit(session, actor=people["gp"], details=factories.details(),
                         requested_specialties=[Specialty.PAIN_MEDICINE], now=start)
    conf = factories.conference(session, people["coord"], people["spec"])
    _, item = referrals.schedule(session, actor=people["coord"], request_id=id_of(r),
                                 conference_id=id_of(conf), planned_minutes=10)
    factories.held(session, conf, item)
    decisions.save_draft(session, actor=people["spec"], item_id=id_of(item), read_version=0,
                         content=DecisionContent(Outcome.PAIN_MANAGEMENT, "r", "p", 4,
                                                 (id_of(people["spec"]),)))
    decisions.sign(session, actor=people["spec"], item_id=id_of(item),
                   now=start + timedelta(days=2, hours=3))
    assert referrals.turnaround_of(r) == timedelta(days=2, hours=3)
    assert referrals.turnaround_summary(session) == (1, timedelta(days=2, hours=3))


def test_request_keeps_the_referrers_own_patient_id(session: Session, people: dict[str, User]
                                                    ) -> None:
    r = referrals.submit(session, actor=people["gp"], details=factories.details(),
                         requested_specialties=[Specialty.NEUROSURGERY],
                         referrer_patient_id="  MRN 004-471 ")
    session.expire_all()
    assert referrals.get_request(session, id_of(r)).referrer_patient_id == "MRN 004-471"
    assert submit(session, people["gp"]).referrer_patient_id is None
    with pytest.raises(InvalidInput) as refused:
        referrals.submit(session, actor=people["gp"], details=factories.details(),
                         requested_specialties=[Specialty.NEUROSURGERY],
                         referrer_patient_id="Jane Doe")
    assert refused.value.field == "referrer_patient_id"
