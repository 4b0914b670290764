"""People: create, find, list."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from conference.audit import AuditAction, Entity
from conference.errors import NotAuthenticated, NotFound, gather
from conference.people import (
    Attendee,
    Role,
    Specialty,
    check_credentials,
    check_password,
    check_person,
    normalize_email,
)
from conference.permissions import require_admin
from conference.room_events import AccessRevoked
from storage import audit, events, throttle
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
    credentials: str = "",
    actor_id: int | None = None,
    now: datetime | None = None,
) -> User:
    """Create a person; an email already in use is a conflict."""
    gather(lambda: normalize_email(email),
           lambda: check_person(name=name, role=role, specialty=specialty),
           lambda: check_password(password), lambda: check_credentials(credentials))
    address = normalize_email(email)
    user = User(
        email=address, name=name.strip(), role=role, specialty=specialty,
        credentials=check_credentials(credentials),
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
    return session.exec(select(func.count()).select_from(User)).one()


def record_sign_in(session: Session, user: User, *, now: datetime,
                   method: str | None = None) -> None:
    """Audit a sign-in (``method``: how, when not a password, e.g. "single sign-on")."""
    assert user.id is not None
    audit.record(session, actor_id=user.id, action=AuditAction.SIGNED_IN, entity=Entity.USER,
                 entity_id=user.id, detail={"method": method} if method else None, now=now)


def single_sign_on(session: Session, email: str, *, now: datetime) -> User:
    """The active person whose address an identity provider verified; nobody is made
    by signing in, so an unknown or switched-off address is refused."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        raise NotAuthenticated(f"There is no active Casebridge account for {email}. Ask "
                               "your Casebridge administrator to add you (with this address), "
                               "then sign in again.")
    record_sign_in(session, user, now=now, method="single sign-on")
    return user


UNCHANGED: object = object()


def update_user(
    session: Session,
    *,
    actor: User,
    user_id: int,
    name: str | None = None,
    role: Role | None = None,
    specialty: Specialty | None | object = UNCHANGED,
    active: bool | None = None,
    password: str | None = None,
    credentials: str | None = None,
    now: datetime | None = None,
) -> User:
    """An administrator changes a person's name, role, specialty, access, password or
    credentials (the letters after the name on a signed letter).

    Every change is audited (the new password never is); the last active
    administrator cannot be demoted or switched off.
    """
    from conference.people import check_admins_remain

    require_admin(actor.role, "manage people")
    user = get_user(session, user_id)
    changed: dict[str, object] = {}
    new_role = role if role is not None else user.role
    new_specialty = user.specialty if specialty is UNCHANGED else specialty
    assert new_specialty is None or isinstance(new_specialty, Specialty)
    new_name = user.name if name is None else name.strip()
    gather(lambda: check_person(name=new_name, role=new_role, specialty=new_specialty),
           lambda: check_password(password) if password is not None else None,
           lambda: check_credentials(credentials) if credentials is not None else None)
    new_active = user.active if active is None else active
    new_credentials = user.credentials if credentials is None else check_credentials(credentials)
    if user.role is Role.ADMIN and user.active and (new_role is not Role.ADMIN or not new_active):
        others = session.exec(select(User.id).where(
            User.role == Role.ADMIN, col(User.active).is_(True), User.id != user.id)).all()
        check_admins_remain(active_admins_after=len(others))
    for field, value in (("name", new_name), ("role", new_role),
                         ("specialty", new_specialty), ("active", new_active),
                         ("credentials", new_credentials)):
        if getattr(user, field) != value:
            changed[field] = getattr(value, "value", value)
            setattr(user, field, value)
    if password is not None:
        user.password_hash = hash_password(password)
        changed["password"] = "reset"
    if password is not None or "active" in changed:
        # A new password or a change of access ends every session issued before
        # (reactivation too, so nothing from before the deactivation revives).
        revoke_credentials(session, user)
        # ... and whoever was refused for failed tries on this account may try again.
        throttle.forget_account(session, email=user.email)
    session.add(user)
    assert user.id is not None
    if changed:
        audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                     entity=Entity.USER, entity_id=user.id, detail=changed, now=now)
    return user


def revoke_credentials(session: Session, user: User) -> None:
    """Every session cookie and API token issued to ``user`` so far stops working, and
    their open room sockets close (after commit, on every instance)."""
    assert user.id is not None
    user.credential_generation += 1
    session.add(user)
    events.record(session, conference_id=None, event=AccessRevoked(user_id=user.id))


def sign_out_everywhere(session: Session, *, actor: User, user_id: int,
                        now: datetime | None = None) -> User:
    """End every session and token of ``user_id``: oneself, or anyone for an admin."""
    if actor.id != user_id:
        require_admin(actor.role, "sign someone else out")
    user = get_user(session, user_id)
    revoke_credentials(session, user)
    assert user.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED, entity=Entity.USER,
                 entity_id=user.id, detail={"signed_out_everywhere": True}, now=now)
    return user


def set_mail_notices(session: Session, user: User, wanted: bool,
                     now: datetime | None = None) -> User:
    """A person's own choice: notices by mail too, or only in the inbox."""
    if user.mail_notices != wanted:
        user.mail_notices = wanted
        session.add(user)
        audit.record(session, actor_id=user.id, action=AuditAction.UPDATED,
                     entity=Entity.USER, entity_id=user.id or 0,
                     detail={"mail_notices": wanted}, now=now)
    return user
