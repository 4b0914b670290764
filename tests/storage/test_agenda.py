import pytest
from sqlmodel import Session

from conference.agenda import ItemStatus
from conference.conferences import ConferenceStatus
from conference.errors import (
    AgendaMismatch,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from conference.people import ConferenceRole, Role
from storage import agenda, conferences
from storage.tables import AgendaItem, Conference, User
from tests import factories
from tests.factories import id_of


@pytest.fixture
def setup(session: Session) -> tuple[User, User, Conference]:
    coord = factories.coordinator(session)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair, minutes=45)
    return coord, chair, conf


def test_agenda_items_in_order_with_running_total(session: Session,
                                                  setup: tuple[User, User, Conference]) -> None:
    coord, _, conf = setup
    a, b, c = (factories.item(session, coord, conf, m) for m in (15, 20, 20))
    assert [i.id for i in agenda.items(session, id_of(conf))] == [a.id, b.id, c.id]
    t = agenda.timing(session, conf)
    assert (t.planned_minutes, t.over_by) == (55, 10)


def test_agenda_same_case_twice_conflicts(session: Session, setup: tuple[User, User, Conference]
                                          ) -> None:
    coord, _, conf = setup
    item = factories.item(session, coord, conf)
    with pytest.raises(Conflict):
        agenda.add_item(session, actor=coord, conference_id=id_of(conf), case_id=item.case_id,
                        planned_minutes=10)


def test_agenda_add_rejects_bad_input(session: Session, setup: tuple[User, User, Conference]
                                      ) -> None:
    coord, chair, conf = setup
    c = factories.case(session, coord)
    with pytest.raises(InvalidInput):
        agenda.add_item(session, actor=coord, conference_id=id_of(conf), case_id=id_of(c),
                        planned_minutes=0)
    with pytest.raises(InvalidInput):
        agenda.add_item(session, actor=coord, conference_id=id_of(conf), case_id=9999,
                        planned_minutes=10)
    with pytest.raises(NotFound):
        agenda.add_item(session, actor=coord, conference_id=9999, case_id=id_of(c),
                        planned_minutes=10)
    with pytest.raises(PermissionDenied):
        agenda.add_item(session, actor=chair, conference_id=id_of(conf), case_id=id_of(c),
                        planned_minutes=10)


def test_agenda_reorder(session: Session, setup: tuple[User, User, Conference]) -> None:
    coord, _, conf = setup
    a, b, c = (factories.item(session, coord, conf) for _ in range(3))
    result = agenda.reorder(session, actor=coord, conference_id=id_of(conf),
                            item_ids=[id_of(c), id_of(a), id_of(b)])
    assert [i.id for i in result] == [c.id, a.id, b.id]
    assert [i.position for i in result] == [0, 1, 2]
    with pytest.raises(AgendaMismatch):
        agenda.reorder(session, actor=coord, conference_id=id_of(conf),
                       item_ids=[id_of(a), id_of(b)])
    assert [i.id for i in agenda.items(session, id_of(conf))] == [c.id, a.id, b.id]


def test_agenda_advance_requires_published_and_chair(session: Session,
                                                     setup: tuple[User, User, Conference]) -> None:
    coord, chair, conf = setup
    a = factories.item(session, coord, conf)
    with pytest.raises(IllegalTransition):
        agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(a))
    conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                           status=ConferenceStatus.PUBLISHED)
    member = factories.user(session)
    factories.member(session, coord, conf, member)
    with pytest.raises(PermissionDenied):
        agenda.advance(session, actor=member, conference_id=id_of(conf), item_id=id_of(a))


def test_agenda_advance_walks_items_and_goes_live(session: Session,
                                                  setup: tuple[User, User, Conference]) -> None:
    coord, chair, conf = setup
    a, b = factories.item(session, coord, conf), factories.item(session, coord, conf)
    conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                           status=ConferenceStatus.PUBLISHED)
    agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(a))
    assert conf.status is ConferenceStatus.LIVE
    assert (conf.current_item_id, a.status) == (a.id, ItemStatus.DISCUSSING)
    assert a.started_at is not None and conf.current_started_at is not None
    agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(b))
    assert conf.current_item_id == b.id and a.ended_at is not None
    other = factories.conference(session, coord, chair)
    stranger = factories.item(session, coord, other)
    with pytest.raises(NotFound):
        agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(stranger))


def test_agenda_defer_and_take_up_again(session: Session, setup: tuple[User, User, Conference]
                                        ) -> None:
    coord, chair, conf = setup
    a = factories.item(session, coord, conf)
    agenda.defer(session, actor=chair, item_id=id_of(a))
    assert a.status is ItemStatus.DEFERRED
    conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                           status=ConferenceStatus.PUBLISHED)
    agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(a))
    # (mypy keeps a.status narrowed to DEFERRED from above, across advance(), which changes it.)
    assert a.status is ItemStatus.DISCUSSING and a.ended_at is None  # type: ignore[comparison-overlap]


def test_agenda_attendance_recorded_once_per_person(session: Session,
                                                    setup: tuple[User, User, Conference]) -> None:
    coord, chair, conf = setup
    a = factories.item(session, coord, conf)
    pt = factories.user(session)
    agenda.record_attendance(session, item_id=id_of(a), user_ids=[id_of(chair)])
    agenda.record_attendance(session, item_id=id_of(a),
                             user_ids=[id_of(chair), id_of(pt), id_of(pt)])
    assert agenda.present_for(session, id_of(a)) == [chair.id, pt.id]


def test_agenda_end_current_clears_the_live_item(session: Session,
                                                 setup: tuple[User, User, Conference]) -> None:
    coord, chair, conf = setup
    a = _live_item(session, setup)
    member = factories.user(session)
    with pytest.raises(PermissionDenied):
        agenda.end_current(session, actor=member, conference_id=id_of(conf))
    agenda.end_current(session, actor=chair, conference_id=id_of(conf))
    assert (conf.current_item_id, conf.current_started_at) == (None, None)
    assert a.ended_at is not None and a.status is ItemStatus.DISCUSSING


def test_agenda_changes_leave_an_event_for_the_room(session: Session,
                                                    setup: tuple[User, User, Conference]) -> None:
    from conference.room_events import AgendaChanged
    from storage import events

    coord, chair, conf = setup
    events.take(session)
    a, b = factories.item(session, coord, conf), factories.item(session, coord, conf)
    agenda.reorder(session, actor=coord, conference_id=id_of(conf), item_ids=[id_of(b), id_of(a)])
    agenda.set_minutes(session, actor=coord, item_id=id_of(a), planned_minutes=12)
    agenda.defer(session, actor=chair, item_id=id_of(b))
    changed = (conf.id, AgendaChanged())
    assert events.take(session) == [changed] * 5


ROLES = [("chair", True), ("coordinator", True), ("admin member", True),
         ("plain member", False), ("guest member", False)]


def _actor(session: Session, setup: tuple[User, User, Conference], who: str) -> User:
    """The person in role ``who`` on the setup's conference (made a member if need be)."""
    coord, chair, conf = setup
    if who in ("chair", "coordinator"):
        return chair if who == "chair" else coord
    person = factories.user(session, Role.ADMIN if who == "admin member" else Role.SPECIALIST)
    factories.member(session, coord, conf, person,
                     ConferenceRole.GUEST if who == "guest member" else ConferenceRole.MEMBER)
    return person


def _published_item(session: Session, setup: tuple[User, User, Conference]) -> AgendaItem:
    """One item on the setup's conference, published so that it can go live."""
    coord, _, conf = setup
    item = factories.item(session, coord, conf)
    conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                           status=ConferenceStatus.PUBLISHED)
    return item


def _live_item(session: Session, setup: tuple[User, User, Conference]) -> AgendaItem:
    """A published item the chair has made current."""
    _, chair, conf = setup
    item = _published_item(session, setup)
    agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(item))
    return item


@pytest.mark.parametrize(("who", "allowed"), ROLES)
def test_agenda_advance_by_each_role(session: Session, setup: tuple[User, User, Conference],
                                     who: str, allowed: bool) -> None:
    _, _, conf = setup
    a = _published_item(session, setup)
    actor = _actor(session, setup, who)
    if allowed:
        agenda.advance(session, actor=actor, conference_id=id_of(conf), item_id=id_of(a))
        assert conf.current_item_id == a.id
    else:
        with pytest.raises(PermissionDenied):
            agenda.advance(session, actor=actor, conference_id=id_of(conf), item_id=id_of(a))
        assert conf.current_item_id is None


@pytest.mark.parametrize(("who", "allowed"), ROLES)
def test_agenda_end_current_by_each_role(session: Session, setup: tuple[User, User, Conference],
                                         who: str, allowed: bool) -> None:
    """Ending the current item moves the live agenda too: the same rule as advancing."""
    _, chair, conf = setup
    a = _live_item(session, setup)
    actor = _actor(session, setup, who)
    if allowed:
        agenda.end_current(session, actor=actor, conference_id=id_of(conf))
        assert conf.current_item_id is None
    else:
        with pytest.raises(PermissionDenied):
            agenda.end_current(session, actor=actor, conference_id=id_of(conf))
        assert conf.current_item_id == a.id


def test_agenda_deactivated_chair_moves_nothing(session: Session,
                                                setup: tuple[User, User, Conference]) -> None:
    coord, chair, conf = setup
    a = _live_item(session, setup)
    chair.active = False
    with pytest.raises(PermissionDenied):
        agenda.end_current(session, actor=chair, conference_id=id_of(conf))
    with pytest.raises(PermissionDenied):
        agenda.advance(session, actor=chair, conference_id=id_of(conf), item_id=id_of(a))
    assert conf.current_item_id == a.id
