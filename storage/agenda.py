"""Agendas: the ordered cases of a conference, the live current item and attendance."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from conference.agenda import (
    AgendaTime,
    ItemStatus,
    agenda_time,
    check_item_minutes,
    check_reorder,
    move_item,
)
from conference.audit import AuditAction, Entity
from conference.conferences import ConferenceStatus, move_conference
from conference.decision import DecisionStatus
from conference.errors import InvalidInput, NotFound, PermissionDenied
from conference.permissions import (
    is_organiser,
    require_may_advance,
    require_organiser,
    sees_agenda,
)
from conference.room_events import AgendaChanged
from conference.signoff import LIVE_WINDOW, require_live_window
from storage import audit, events
from storage.clock import utcnow
from storage.conferences import get_conference
from storage.errors import integrity_as_conflict
from storage.tables import (
    AgendaItem,
    Attendance,
    Case,
    Conference,
    ConferenceMember,
    Decision,
    User,
)


def _changed(session: Session, conference_id: int) -> None:
    """Tell the live room to show the agenda again (after commit, ``storage.events``)."""
    events.record(session, conference_id=conference_id, event=AgendaChanged())


def items(session: Session, conference_id: int) -> list[AgendaItem]:
    return list(session.exec(
        select(AgendaItem).where(AgendaItem.conference_id == conference_id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    ))


def get_item(session: Session, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise NotFound(f"No agenda item with id {item_id}.")
    return item


def timing(session: Session, conf: Conference) -> AgendaTime:
    assert conf.id is not None
    return agenda_time([i.planned_minutes for i in items(session, conf.id)],
                       conf.duration_minutes)


def add_item(
    session: Session,
    *,
    actor: User,
    conference_id: int,
    case_id: int,
    planned_minutes: int,
    now: datetime | None = None,
) -> AgendaItem:
    """Put a case at the end of a conference's agenda."""
    require_organiser(actor.role, "build an agenda")
    conf = get_conference(session, conference_id)
    if conf.status is ConferenceStatus.CLOSED:
        raise InvalidInput("This conference is closed; add the case to another one.",
                           field="conference_id")
    check_item_minutes(planned_minutes)
    if session.get(Case, case_id) is None:
        raise InvalidInput(f"No case with id {case_id}.", field="case_id")
    existing = items(session, conference_id)
    item = AgendaItem(conference_id=conference_id, case_id=case_id,
                      position=len(existing), planned_minutes=planned_minutes)
    with integrity_as_conflict("This case is already on this conference's agenda."):
        session.add(item)
        session.flush()
    assert item.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.ADDED,
                 entity=Entity.AGENDA_ITEM, entity_id=item.id, case_id=case_id,
                 detail={"conference_id": conference_id, "planned_minutes": planned_minutes},
                 now=now)
    _changed(session, conference_id)
    return item


def reorder(
    session: Session, *, actor: User, conference_id: int, item_ids: list[int],
    now: datetime | None = None,
) -> list[AgendaItem]:
    """Set the order; ``item_ids`` must be exactly the current items."""
    require_organiser(actor.role, "reorder an agenda")
    get_conference(session, conference_id)
    current = items(session, conference_id)
    check_reorder([i.id for i in current if i.id is not None], item_ids)
    by_id = {i.id: i for i in current}
    for position, item_id in enumerate(item_ids):
        by_id[item_id].position = position
        session.add(by_id[item_id])
    audit.record(session, actor_id=actor.id, action=AuditAction.REORDERED,
                 entity=Entity.CONFERENCE, entity_id=conference_id,
                 detail={"item_ids": item_ids}, now=now)
    _changed(session, conference_id)
    session.flush()
    return items(session, conference_id)


def set_minutes(
    session: Session, *, actor: User, item_id: int, planned_minutes: int,
    now: datetime | None = None,
) -> AgendaItem:
    require_organiser(actor.role, "change an agenda")
    check_item_minutes(planned_minutes)
    item = get_item(session, item_id)
    item.planned_minutes = planned_minutes
    session.add(item)
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                 entity=Entity.AGENDA_ITEM, entity_id=item_id, case_id=item.case_id,
                 detail={"planned_minutes": planned_minutes}, now=now)
    _changed(session, item.conference_id)
    return item


def move_item_status(item: AgendaItem, target: ItemStatus, now: datetime) -> None:
    """Walk an item to ``target`` along the legal path, stamping start and end times."""
    if item.status is target:
        return
    if target is ItemStatus.DECIDED and item.status is not ItemStatus.DISCUSSING:
        move_item_status(item, ItemStatus.DISCUSSING, now)
    item.status = move_item(item.status, target)
    if target is ItemStatus.DISCUSSING and item.started_at is None:
        item.started_at = now
    if target in (ItemStatus.DECIDED, ItemStatus.DEFERRED) and item.ended_at is None:
        item.ended_at = now


def _require_may_advance(actor: User, conf: Conference) -> None:
    """Moving the live agenda, either way: an active account, and the one rule."""
    if not actor.active:
        raise PermissionDenied("This account is deactivated.")
    require_may_advance(role=actor.role, is_chair=actor.id == conf.chair_id)


def advance(
    session: Session, *, actor: User, conference_id: int, item_id: int,
    now: datetime | None = None, live_window: timedelta = LIVE_WINDOW,
) -> Conference:
    """The chair (or an organiser: :func:`may_advance`) makes ``item_id`` the case
    being discussed now (the first one makes the conference live: from
    ``live_window`` before its start)."""
    at = now or utcnow()
    conf = get_conference(session, conference_id)
    _require_may_advance(actor, conf)
    item = get_item(session, item_id)
    if item.conference_id != conference_id:
        raise NotFound(f"Item {item_id} is not on this conference's agenda.")
    if conf.status is not ConferenceStatus.LIVE:
        # Moving the agenda is what makes a published conference live; a draft
        # or closed one refuses (IllegalTransition), and a week early is too early.
        conf.status = move_conference(conf.status, ConferenceStatus.LIVE)
        require_live_window(conf.starts_at, at, live_window)
    if conf.current_item_id and conf.current_item_id != item_id:
        previous = session.get(AgendaItem, conf.current_item_id)
        if previous is not None and previous.ended_at is None:
            previous.ended_at = at
            session.add(previous)
    if item.status in (ItemStatus.PENDING, ItemStatus.DEFERRED):
        move_item_status(item, ItemStatus.DISCUSSING, at)
        item.ended_at = None
    conf.current_item_id, conf.current_started_at = item_id, at
    session.add_all([conf, item])
    audit.record(session, actor_id=actor.id, action=AuditAction.TRANSITIONED,
                 entity=Entity.AGENDA_ITEM, entity_id=item_id, case_id=item.case_id,
                 detail={"current": True}, now=at)
    session.flush()
    return conf


def end_current(
    session: Session, *, actor: User, conference_id: int, now: datetime | None = None
) -> Conference:
    """The chair (or an organiser: :func:`may_advance`) stops discussing the current
    item without a new one."""
    at = now or utcnow()
    conf = get_conference(session, conference_id)
    _require_may_advance(actor, conf)
    if conf.current_item_id is not None:
        previous = session.get(AgendaItem, conf.current_item_id)
        if previous is not None and previous.ended_at is None:
            previous.ended_at = at
            session.add(previous)
    conf.current_item_id, conf.current_started_at = None, None
    session.add(conf)
    audit.record(session, actor_id=actor.id, action=AuditAction.TRANSITIONED,
                 entity=Entity.CONFERENCE, entity_id=conference_id,
                 detail={"current": None}, now=at)
    return conf


def defer(
    session: Session, *, actor: User, item_id: int, now: datetime | None = None
) -> AgendaItem:
    """Put a case off to a later meeting."""
    item = get_item(session, item_id)
    conf = get_conference(session, item.conference_id)
    if actor.id != conf.chair_id and not is_organiser(actor.role):
        raise PermissionDenied("Only the chair or a coordinator defers a case.")
    move_item_status(item, ItemStatus.DEFERRED, now or utcnow())
    session.add(item)
    audit.record(session, actor_id=actor.id, action=AuditAction.TRANSITIONED,
                 entity=Entity.AGENDA_ITEM, entity_id=item_id, case_id=item.case_id,
                 detail={"to": ItemStatus.DEFERRED.value}, now=now)
    _changed(session, item.conference_id)
    return item


def record_attendance(
    session: Session, *, item_id: int, user_ids: Iterable[int], now: datetime | None = None
) -> None:
    """Note that ``user_ids`` were in the room while ``item_id`` was current."""
    at = now or utcnow()
    present = set(user_ids)
    # Set-wise, three statements however many people: a room of two hundred is
    # written in milliseconds, not two hundred round trips (bench/fanout.py).
    seen = set(session.exec(select(Attendance.user_id)
                            .where(Attendance.agenda_item_id == item_id)))
    if present & seen:
        session.execute(update(Attendance)
                        .where(col(Attendance.agenda_item_id) == item_id,
                               col(Attendance.user_id).in_(sorted(present & seen)))
                        .values(last_seen_at=at))
    if present - seen:
        session.execute(insert(Attendance), [
            {"agenda_item_id": item_id, "user_id": user_id, "first_seen_at": at,
             "last_seen_at": at} for user_id in sorted(present - seen)])
    # A draft whose present list nobody edited follows the room (issue: a third
    # specialist joined and the saved draft still listed two).
    draft = session.exec(select(Decision).where(Decision.agenda_item_id == item_id)).first()
    if draft is not None and draft.status is DecisionStatus.DRAFT and not draft.presence_edited:
        draft.present_user_ids = present_for(session, item_id)
        session.add(draft)
        session.flush()


def present_for(session: Session, item_id: int) -> list[int]:
    """Who attended while the item was current, in order of arrival."""
    rows = session.exec(
        select(Attendance).where(Attendance.agenda_item_id == item_id)
        .order_by(col(Attendance.first_seen_at), col(Attendance.id))
    )
    return [a.user_id for a in rows]


def items_for_case(session: Session, case_id: int) -> list[AgendaItem]:
    """Every agenda item that holds the case (one per conference it was put on), oldest first."""
    return list(session.exec(
        select(AgendaItem).where(AgendaItem.case_id == case_id).order_by(col(AgendaItem.id))
    ))


def items_for(session: Session, *, viewer: User, conference_id: int) -> list[AgendaItem]:
    """The agenda as ``viewer`` may see it (:func:`conference.permissions.sees_agenda`):
    all of it, or a guest's own requests' items only."""
    everything = items(session, conference_id)
    assert viewer.id is not None
    member = session.exec(select(ConferenceMember).where(
        ConferenceMember.conference_id == conference_id,
        ConferenceMember.user_id == viewer.id)).first()
    if sees_agenda(role=viewer.role, conference_role=member.conference_role if member else None):
        return everything
    own = set(session.exec(select(Case.id).where(Case.requested_by_id == viewer.id)))
    return [i for i in everything if i.case_id in own]


def also_on(session: Session, *, case_id: int, conference_id: int) -> list[Conference]:
    """Other conferences, not closed, whose agenda holds the case undecided: putting it
    on one more asks for a second look (two panels might decide it twice)."""
    rows = session.exec(select(Conference).join(
        AgendaItem, col(AgendaItem.conference_id) == col(Conference.id)).where(
        AgendaItem.case_id == case_id, col(Conference.id) != conference_id,
        Conference.status != ConferenceStatus.CLOSED,
        col(AgendaItem.status).in_([ItemStatus.PENDING, ItemStatus.DISCUSSING,
                                    ItemStatus.DEFERRED])).order_by(col(Conference.starts_at)))
    return list(rows)
