"""Conferences and their members."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from conference.agenda import ItemStatus
from conference.audit import AuditAction, Entity
from conference.conferences import ConferenceStatus, check_conference, move_conference
from conference.errors import InvalidInput, NotFound
from conference.people import ConferenceRole
from conference.permissions import (
    is_organiser,
    may_change_status,
    may_enter_conference,
    require_organiser,
)
from conference.quorum import DEFAULT_RULE, QuorumRule, rule_from_dict
from conference.room_events import MeetingEnded
from conference.signoff import LIVE_WINDOW, require_live_window
from storage import audit, events, invitations
from storage.clock import utcnow
from storage.errors import integrity_as_conflict
from storage.tables import AgendaItem, Conference, ConferenceMember, User


def create_conference(
    session: Session,
    *,
    actor: User,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    chair_id: int,
    now: datetime | None = None,
) -> Conference:
    """A coordinator schedules a conference; its chair becomes its first member."""
    require_organiser(actor.role, "create a conference")
    check_conference(title=title, starts_at=starts_at, duration_minutes=duration_minutes)
    if session.get(User, chair_id) is None:
        raise InvalidInput(f"No person with id {chair_id} to chair it.", field="chair_id")
    at = now or utcnow()
    conf = Conference(
        title=title.strip(), starts_at=starts_at, duration_minutes=duration_minutes,
        chair_id=chair_id, created_by_id=actor.id, created_at=at,
    )
    session.add(conf)
    session.flush()
    assert conf.id is not None
    session.add(ConferenceMember(conference_id=conf.id, user_id=chair_id,
                                 conference_role=ConferenceRole.CHAIR, added_at=at))
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED,
                 entity=Entity.CONFERENCE, entity_id=conf.id, now=at)
    return conf


def get_conference(session: Session, conference_id: int) -> Conference:
    conf = session.get(Conference, conference_id)
    if conf is None:
        raise NotFound(f"No conference with id {conference_id}.")
    return conf


def visible_conference(session: Session, *, viewer: User, conference_id: int) -> Conference:
    """The conference, if ``viewer`` organises or belongs to it; otherwise not found
    (not forbidden: an outsider learns nothing, not even that it exists)."""
    conf = get_conference(session, conference_id)
    assert viewer.id is not None
    role = role_in(session, conference_id=conference_id, user_id=viewer.id)
    if not may_enter_conference(role=viewer.role, conference_role=role):
        raise NotFound(f"No conference with id {conference_id}.")
    return conf


def members(session: Session, conference_id: int) -> list[tuple[ConferenceMember, User]]:
    """Members with their people, chair first, then by name."""
    rows = session.exec(
        select(ConferenceMember, User)
        .join(User, col(User.id) == col(ConferenceMember.user_id))
        .where(ConferenceMember.conference_id == conference_id)
        .order_by(col(User.name))
    ).all()
    return sorted(rows, key=lambda r: r[0].conference_role is not ConferenceRole.CHAIR)


def member_ids(session: Session, conference_id: int) -> set[int]:
    return {m.user_id for m, _ in members(session, conference_id)}


def role_in(session: Session, *, conference_id: int, user_id: int) -> ConferenceRole | None:
    """The person's conference role, or None for a non-member."""
    row = session.exec(
        select(ConferenceMember).where(
            ConferenceMember.conference_id == conference_id, ConferenceMember.user_id == user_id
        )
    ).first()
    return row.conference_role if row else None


def add_member(
    session: Session,
    *,
    actor: User,
    conference_id: int,
    user_id: int,
    conference_role: ConferenceRole,
    now: datetime | None = None,
    base_url: str | None = None,
) -> ConferenceMember:
    """Invite a person; a conference has exactly one chair, chosen at creation. Added
    to a conference already announced, they are mailed its invitation."""
    require_organiser(actor.role, "invite members")
    conf = get_conference(session, conference_id)
    if session.get(User, user_id) is None:
        raise InvalidInput(f"No person with id {user_id}.", field="user_id")
    if conference_role is ConferenceRole.CHAIR and user_id != conf.chair_id:
        raise InvalidInput("A conference has one chair; change the chair instead.",
                           field="conference_role")
    member = ConferenceMember(conference_id=conference_id, user_id=user_id,
                              conference_role=conference_role, added_at=now or utcnow())
    with integrity_as_conflict("This person is already a member of the conference."):
        session.add(member)
        session.flush()
    audit.record(session, actor_id=actor.id, action=AuditAction.ADDED,
                 entity=Entity.CONFERENCE, entity_id=conference_id,
                 detail={"member": user_id, "role": conference_role.value}, now=now)
    if conf.status in (ConferenceStatus.PUBLISHED, ConferenceStatus.LIVE):
        invitations.mail(session, conf, base_url=base_url, now=now,
                         to=[session.get(User, user_id)])  # type: ignore[list-item]
    return member


def set_status(
    session: Session, *, actor: User | None, conference_id: int, status: ConferenceStatus,
    now: datetime | None = None, live_window: timedelta = LIVE_WINDOW,
    base_url: str | None = None,
) -> Conference:
    """Publish, open, close: each move checked against the conference life cycle.
    Going live opens ``live_window`` before the start; closing a live conference ends
    the meeting (``actor`` None: it closed by itself, its room empty past its end).
    Publishing mails every member an invitation; closing a published conference
    before it was held cancels it, in their calendars too (links under ``base_url``)."""
    at = now or utcnow()
    conf = get_conference(session, conference_id)
    if actor is not None and not may_change_status(role=actor.role,
                                                   is_chair=actor.id == conf.chair_id):
        require_organiser(actor.role, "change a conference's status")
    previous = conf.status
    if status is ConferenceStatus.LIVE and previous is ConferenceStatus.PUBLISHED:
        require_live_window(conf.starts_at, at, live_window)
    conf.status = move_conference(conf.status, status)
    if previous is ConferenceStatus.LIVE and status is ConferenceStatus.CLOSED:
        _end_meeting(session, conf, at)
    if previous is ConferenceStatus.PUBLISHED and status is ConferenceStatus.CLOSED:
        # Closed before it was held: cancelled, and calendars must drop it.
        conf.cancelled_at = at
        conf.calendar_sequence += 1
    session.add(conf)
    if status is ConferenceStatus.PUBLISHED or conf.cancelled_at == at:
        invitations.mail(session, conf, base_url=base_url, now=at)
    audit.record(session, actor_id=actor.id if actor else None,
                 action=AuditAction.TRANSITIONED, entity=Entity.CONFERENCE,
                 entity_id=conference_id,
                 detail={"from": previous.value, "to": status.value,
                         **({} if actor else {"by": "auto-close"})}, now=at)
    return conf


def _end_meeting(session: Session, conf: Conference, at: datetime) -> None:
    """The meeting is over: the case under discussion stops being current (its item
    keeps its status: decided, or still to be decided), and the room is told."""
    if conf.current_item_id is not None:
        item = session.get(AgendaItem, conf.current_item_id)
        if item is not None and item.ended_at is None:
            item.ended_at = at
            if item.status is ItemStatus.DISCUSSING:
                item.status = ItemStatus.PENDING
            session.add(item)
    conf.current_item_id = None
    conf.current_started_at = None
    assert conf.id is not None
    events.record(session, conference_id=conf.id, event=MeetingEnded())


def visible_to(session: Session, user: User) -> list[Conference]:
    """Organisers see every conference; others those they belong to. Soonest first."""
    query = select(Conference)
    if not is_organiser(user.role):
        query = query.join(
            ConferenceMember, col(ConferenceMember.conference_id) == col(Conference.id)
        ).where(ConferenceMember.user_id == user.id)
    return list(session.exec(query.order_by(col(Conference.starts_at))))


def quorum_rule(conf: Conference) -> QuorumRule:
    """The conference's own rule if it has one, else the default."""
    return rule_from_dict(conf.quorum_rule) if conf.quorum_rule else DEFAULT_RULE


def set_quorum_rule(
    session: Session, *, actor: User, conference_id: int, rule: QuorumRule | None,
    now: datetime | None = None,
) -> Conference:
    """Give a conference its own sign-off rule (``None``: back to the default)."""
    from conference.quorum import rule_to_dict

    require_organiser(actor.role, "change a conference's sign-off rule")
    conf = get_conference(session, conference_id)
    conf.quorum_rule = rule_to_dict(rule) if rule is not None else None
    session.add(conf)
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                 entity=Entity.CONFERENCE, entity_id=conference_id,
                 detail={"quorum_rule": conf.quorum_rule or "default"}, now=now)
    return conf
