"""Read helpers added for the pages: items holding a case, the request behind a case."""

from sqlmodel import Session

from conference.people import Role, Specialty
from storage import agenda, referrals
from tests import factories as f
from tests.factories import found, id_of


def test_items_for_case_lists_every_conference_holding_it(session: Session) -> None:
    coord = f.coordinator(session)
    chair = f.user(session, Role.SPECIALIST, Specialty.NEUROSURGERY)
    first, second = f.conference(session, coord, chair), f.conference(session, coord, chair)
    case = f.case(session, coord)
    other = f.case(session, coord)
    a = agenda.add_item(session, actor=coord, conference_id=id_of(first), case_id=id_of(case),
                        planned_minutes=10)
    agenda.add_item(session, actor=coord, conference_id=id_of(first), case_id=id_of(other),
                    planned_minutes=10)
    b = agenda.add_item(session, actor=coord, conference_id=id_of(second), case_id=id_of(case),
                        planned_minutes=10)
    assert [i.id for i in agenda.items_for_case(session, id_of(case))] == [a.id, b.id]


def test_request_for_case_finds_the_request_or_none(session: Session) -> None:
    coord = f.coordinator(session)
    clinician = f.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    request = referrals.submit(session, actor=clinician, details=f.details(),
                               requested_specialties=[Specialty.NEUROSURGERY])
    plain = f.case(session, coord)
    assert found(referrals.request_for_case(session, request.case_id)).id == request.id
    assert referrals.request_for_case(session, id_of(plain)) is None
