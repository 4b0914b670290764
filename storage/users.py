"""People: create, find, list."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from conference.audit import AuditAction, Entity
from conference.errors import NotFound
from conference.people import (
    Attendee,
    Role,
    Specialty,
    check_password,
    check_person,
    normalize_email,
)
from storage import audit
from storage.clock import utcnow
from storage.errors import integrity_as_conflict
from storage.passwords import hash_password
from storage.tables import User


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    specialty: Specialty | None = None,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> User:
    """Create a person; an email already in use is a conflict."""
    address = normalize_email(email)
    check_person(name=name, role=role, specialty=specialty)
    check_password(password)
    user = User(
        email=address, name=name.strip(), role=role, specialty=specialty,
        password_hash=hash_password(password), created_at=now or utcnow(),
    )
    with integrity_as_conflict(f"Someone already uses {address}."):
        session.add(user)
        session.flush()
    assert user.id is not None
    audit.record(session, actor_id=actor_id, action=AuditAction.CREATED, entity=Entity.USER,
                 entity_id=user.id, detail={"role": role.value}, now=now)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No person with id {user_id}.")
    return user


def find_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def attendees(session: Session, user_ids: list[int]) -> list[Attendee]:
    """The people in ``user_ids`` as the quorum rule sees them."""
    if not user_ids:
        return []
    rows = session.exec(select(User).where(col(User.id).in_(user_ids)))
    return [Attendee(u.id, u.role, u.specialty) for u in rows if u.id is not None]


def count_users(session: Session) -> int:
    return len(session.exec(select(User.id)).all())


def record_failed_sign_in(session: Session, user: User, *, now: datetime) -> User:
    """Count a failure; at the limit the account is locked for a while."""
    from conference.signin import locked_until

    user.failed_logins += 1
    lock = locked_until(user.failed_logins, now)
    if lock is not None:
        user.locked_until, user.failed_logins = lock, 0
    session.add(user)
    return user


def record_sign_in(session: Session, user: User, *, now: datetime) -> None:
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    assert user.id is not None
    audit.record(session, actor_id=user.id, action=AuditAction.SIGNED_IN, entity=Entity.USER,
                 entity_id=user.id, now=now)
