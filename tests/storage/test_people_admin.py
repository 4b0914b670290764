import pytest
from sqlmodel import Session

from conference.audit import Entity
from conference.errors import InvalidInput, NotFound, PermissionDenied
from conference.people import Role, Specialty
from storage import audit, throttle, users
from storage.passwords import verify_password
from storage.tables import User
from tests import factories
from tests.factories import id_of


@pytest.fixture
def admin(session: Session) -> User:
    return factories.user(session, Role.ADMIN)


def test_people_admin_changes_role_and_specialty(session: Session, admin: User) -> None:
    person = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    users.update_user(session, actor=admin, user_id=id_of(person), role=Role.SPECIALIST,
                      specialty=Specialty.PAIN_MEDICINE, name="  Dr. New Name ")
    assert (person.role, person.specialty, person.name) == (
        Role.SPECIALIST, Specialty.PAIN_MEDICINE, "Dr. New Name")
    event = audit.events_for(session, entity=Entity.USER, entity_id=id_of(person))[-1]
    assert event.detail == {"name": "Dr. New Name", "role": "specialist",
                            "specialty": "pain_medicine"}
    assert event.actor_id == admin.id


def test_people_specialist_keeps_needing_a_specialty(session: Session, admin: User) -> None:
    person = factories.user(session, Role.SPECIALIST, Specialty.RADIOLOGY)
    with pytest.raises(InvalidInput) as err:
        users.update_user(session, actor=admin, user_id=id_of(person), specialty=None)
    assert err.value.field == "specialty"
    assert person.specialty is Specialty.RADIOLOGY


def test_people_password_reset_lets_refused_addresses_try_again_and_is_not_logged(
        session: Session, admin: User) -> None:
    from datetime import UTC, datetime

    from conference.signin import MAX_FAILURES

    person = factories.user(session)
    now = datetime.now(UTC)
    for _ in range(MAX_FAILURES + 1):
        throttle.count_attempt(session, email=person.email, address="203.0.113.9", now=now)
    users.update_user(session, actor=admin, user_id=id_of(person),
                      password="a brand new passphrase")
    assert verify_password(person.password_hash, "a brand new passphrase")
    # The account's count starts again; the address's own count across accounts stays.
    attempts = throttle.count_attempt(session, email=person.email, address="203.0.113.9",
                                      now=now)
    assert (attempts.account, attempts.address) == (1, MAX_FAILURES + 2)
    event = audit.events_for(session, entity=Entity.USER, entity_id=id_of(person))[-1]
    assert event.detail == {"password": "reset"}
    with pytest.raises(InvalidInput):
        users.update_user(session, actor=admin, user_id=id_of(person), password="short")


def test_people_deactivate_and_reactivate(session: Session, admin: User) -> None:
    person = factories.user(session)
    users.update_user(session, actor=admin, user_id=id_of(person), active=False)
    assert person.active is False
    users.update_user(session, actor=admin, user_id=id_of(person), active=True)
    assert person.active is True


def test_people_last_admin_cannot_be_removed(session: Session, admin: User) -> None:
    with pytest.raises(InvalidInput, match="at least one active administrator"):
        users.update_user(session, actor=admin, user_id=id_of(admin), active=False)
    with pytest.raises(InvalidInput):
        users.update_user(session, actor=admin, user_id=id_of(admin), role=Role.COORDINATOR)
    second = factories.user(session, Role.ADMIN)
    users.update_user(session, actor=second, user_id=id_of(admin), role=Role.COORDINATOR)
    assert admin.role is Role.COORDINATOR


def test_people_only_admins_manage(session: Session, admin: User) -> None:
    coord = factories.coordinator(session)
    with pytest.raises(PermissionDenied):
        users.update_user(session, actor=coord, user_id=id_of(admin), name="Hacked")
    with pytest.raises(NotFound):
        users.update_user(session, actor=admin, user_id=99999, name="Nobody")


def test_people_credentials_are_set_changed_and_audited(session: Session, admin: User) -> None:
    person = users.create_user(session, email="cred@x.example", name="Dr. Cred",
                               role=Role.SPECIALIST, specialty=Specialty.NEUROSURGERY,
                               password="long enough pw", credentials=" MD ")
    assert person.credentials == "MD"
    users.update_user(session, actor=admin, user_id=id_of(person), credentials="MD, FRCSC ")
    session.expire_all()
    assert users.get_user(session, id_of(person)).credentials == "MD, FRCSC"
    event = audit.events_for(session, entity=Entity.USER, entity_id=id_of(person))[-1]
    assert event.detail == {"credentials": "MD, FRCSC"}
    with pytest.raises(InvalidInput) as err:
        users.update_user(session, actor=admin, user_id=id_of(person), credentials="MD\nPhD")
    assert err.value.field == "credentials"
