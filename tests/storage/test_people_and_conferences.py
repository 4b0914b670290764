from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from conference.conferences import ConferenceStatus
from conference.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from conference.people import ConferenceRole, Role, Specialty
from storage import conferences, users
from storage.passwords import verify_password
from tests import factories
from tests.factories import found, id_of


def test_users_create_hashes_password_and_normalizes_email(session: Session) -> None:
    u = users.create_user(session, email=" Dr.Lee@Clinic.ORG ", name="Dr. Lee",
                          role=Role.SPECIALIST, specialty=Specialty.PAIN_MEDICINE,
                          password="a long passphrase")
    assert u.email == "dr.lee@clinic.org"
    assert u.password_hash != "a long passphrase"
    assert verify_password(u.password_hash, "a long passphrase")
    assert not verify_password(u.password_hash, "wrong passphrase")
    assert found(users.find_by_email(session, "DR.LEE@clinic.org")).id == u.id


def test_users_duplicate_email_conflicts(session: Session) -> None:
    factories.user(session, name="A")
    session.commit()
    u = users.list_users(session)[0]
    with pytest.raises(Conflict, match="already uses"):
        users.create_user(session, email=u.email.upper(), name="B", role=Role.ADMIN,
                          password="another passphrase")


@pytest.mark.parametrize(("kw", "field"), [
    ({"email": "not-an-email"}, "email"), ({"password": "short"}, "password"),
    ({"role": Role.SPECIALIST, "specialty": None}, "specialty"), ({"name": ""}, "name"),
])
def test_users_create_rejects(session: Session, kw: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = dict(email="x@y.org", name="X", role=Role.ADMIN,
                                password="long enough pw")
    args.update(kw)
    with pytest.raises(InvalidInput) as err:
        users.create_user(session, **args)
    assert err.value.field == field
    assert users.count_users(session) == 0


def test_conference_created_with_chair_as_member(session: Session) -> None:
    coord = factories.coordinator(session)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair)
    assert conf.status is ConferenceStatus.DRAFT
    rows = conferences.members(session, id_of(conf))
    assert [(m.user_id, m.conference_role) for m, _ in rows] == [(chair.id,
                                                                 ConferenceRole.CHAIR)]
    assert conf.starts_at.tzinfo is not None


def test_conference_start_keeps_the_instant(session: Session) -> None:
    coord = factories.coordinator(session)
    tz = datetime(2026, 12, 1, 7, 30, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=-5)))
    conf = conferences.create_conference(session, actor=coord, title="Rural spine review",
                                         starts_at=tz, duration_minutes=90, chair_id=id_of(coord))
    session.commit()
    session.expire_all()
    again = conferences.get_conference(session, id_of(conf))
    assert again.starts_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)


def test_conference_only_organisers_create(session: Session) -> None:
    spec = factories.user(session)
    with pytest.raises(PermissionDenied):
        factories.conference(session, spec, spec)


def test_conference_unknown_chair_rejected(session: Session) -> None:
    coord = factories.coordinator(session)
    with pytest.raises(InvalidInput) as err:
        conferences.create_conference(session, actor=coord, title="T",
                                      starts_at=datetime.now(UTC), duration_minutes=60,
                                      chair_id=9999)
    assert err.value.field == "chair_id"


def test_conference_members_added_once(session: Session) -> None:
    coord = factories.coordinator(session)
    chair = factories.user(session)
    pt = factories.user(session, specialty=Specialty.PHYSICAL_THERAPY)
    conf = factories.conference(session, coord, chair)
    factories.member(session, coord, conf, pt)
    assert conferences.role_in(session, conference_id=id_of(conf), user_id=id_of(pt)) is (
        ConferenceRole.MEMBER)
    with pytest.raises(Conflict):
        factories.member(session, coord, conf, pt, ConferenceRole.GUEST)
    session.rollback()


def test_conference_second_chair_refused(session: Session) -> None:
    coord = factories.coordinator(session)
    chair, other = factories.user(session), factories.user(session)
    conf = factories.conference(session, coord, chair)
    with pytest.raises(InvalidInput):
        factories.member(session, coord, conf, other, ConferenceRole.CHAIR)
    with pytest.raises(PermissionDenied):
        factories.member(session, chair, conf, other)


def test_conference_status_moves_and_refuses(session: Session) -> None:
    coord = factories.coordinator(session)
    conf = factories.conference(session, coord, coord)
    with pytest.raises(IllegalTransition):
        conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                               status=ConferenceStatus.LIVE)
    conferences.set_status(session, actor=coord, conference_id=id_of(conf),
                           status=ConferenceStatus.PUBLISHED)
    assert conf.status is ConferenceStatus.PUBLISHED


def test_conference_visible_to_members_only(session: Session) -> None:
    coord = factories.coordinator(session)
    chair, outsider = factories.user(session), factories.user(session)
    conf = factories.conference(session, coord, chair)
    assert [c.id for c in conferences.visible_to(session, chair)] == [conf.id]
    assert conferences.visible_to(session, outsider) == []
    assert [c.id for c in conferences.visible_to(session, coord)] == [conf.id]


def test_conference_own_quorum_rule_applies_to_signing(session: Session) -> None:
    from conference.decision import DecisionContent
    from conference.decision_outcomes import Outcome
    from conference.errors import QuorumNotMet
    from conference.quorum import rule_from_dict
    from storage import decisions

    coord = factories.coordinator(session)
    chair = factories.user(session)
    conf = factories.conference(session, coord, chair)
    item = factories.item(session, coord, conf)
    rule = rule_from_dict({"always": [{"name": "a physical therapist",
                                       "specialties": ["physical_therapy"]}]})
    with pytest.raises(PermissionDenied):
        conferences.set_quorum_rule(session, actor=chair, conference_id=id_of(conf), rule=rule)
    conferences.set_quorum_rule(session, actor=coord, conference_id=id_of(conf), rule=rule)
    assert conferences.quorum_rule(conf) == rule
    factories.held(session, conf, item)
    decisions.save_draft(session, actor=chair, item_id=id_of(item), read_version=0,
                         content=DecisionContent(Outcome.OTHER, "r", "p", 2, (id_of(chair),)))
    with pytest.raises(QuorumNotMet) as err:
        decisions.sign(session, actor=chair, item_id=id_of(item))
    assert err.value.missing == ["a physical therapist"]
    conferences.set_quorum_rule(session, actor=coord, conference_id=id_of(conf), rule=None)
    assert conf.quorum_rule is None
    decisions.sign(session, actor=chair, item_id=id_of(item))
