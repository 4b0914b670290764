"""Follow-ups and handoffs: made when a decision is signed, worked through after."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from conference import announcements
from conference.audit import AuditAction, Entity
from conference.care_loop import (
    FollowUpStatus,
    OwnerRole,
    fits_role,
    follow_up_due,
    handoffs_for,
)
from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput, NotFound, PermissionDenied
from conference.permissions import is_organiser, require_organiser
from storage import agenda, audit, cases, notifications
from storage.clock import utcnow
from storage.tables import AgendaItem, DecisionRevision, FollowUp, Handoff, User


def on_signed(session: Session, *, item: AgendaItem, revision: DecisionRevision,
              at: datetime) -> None:
    """A decision was signed: the follow-up it asks for, the handoffs it creates, and
    a returning case's earlier follow-up is done."""
    assert item.id is not None
    for earlier in session.exec(select(FollowUp).where(FollowUp.scheduled_item_id == item.id)):
        earlier.status = FollowUpStatus.DONE.value
        session.add(earlier)
    due = follow_up_due(at.date(), revision.follow_up_weeks)
    if due is not None:
        session.add(FollowUp(case_id=item.case_id, item_id=item.id, outcome=revision.outcome,
                             due_on=due, created_at=at))
    case = cases.get_case(session, item.case_id)
    present = [u for u in session.exec(select(User).where(
        col(User.id).in_(list(revision.present_user_ids) or [0])))]
    responsible = session.get(User, revision.responsible_clinician_id) \
        if revision.responsible_clinician_id else None
    for task in handoffs_for(Outcome(revision.outcome)):
        owner = _owner(task.owner_role, responsible, present, case.requested_by_id)
        handoff = Handoff(case_id=item.case_id, item_id=item.id, task=task.task,
                          owner_role=task.owner_role.value, owner_id=owner,
                          due_on=at.date() + timedelta(days=task.due_in_days), created_at=at)
        session.add(handoff)
        if owner is not None:
            notifications.tell(session, [owner],
                               announcements.handed_over(case.patient_ref, item.case_id), now=at)
    session.flush()


def _owner(role: OwnerRole, responsible: User | None, present: list[User],
           referrer_id: int | None) -> int | None:
    """Who is handed a task: the referrer for theirs; else the responsible clinician
    if they fit, else the first fitting person present (none: a coordinator assigns)."""
    if role is OwnerRole.REFERRING_CLINICIAN:
        return referrer_id
    for person in ([responsible] if responsible else []) + present:
        if person.active and fits_role(role, person.specialty):
            return person.id
    return None


# -- follow-ups ----------------------------------------------------------------------


def follow_ups(session: Session, *, actor: User, due_before: date | None = None
               ) -> list[FollowUp]:
    """Follow-ups not done, soonest first (coordinators)."""
    require_organiser(actor.role, "see the follow-ups")
    query = select(FollowUp).where(FollowUp.status != FollowUpStatus.DONE.value)
    if due_before is not None:
        query = query.where(FollowUp.due_on <= due_before)
    return list(session.exec(query.order_by(col(FollowUp.due_on), col(FollowUp.id))))


def schedule(session: Session, *, actor: User, follow_up_id: int, conference_id: int,
             planned_minutes: int, now: datetime | None = None) -> AgendaItem:
    """Put the case back on a later agenda as a new item."""
    require_organiser(actor.role, "schedule a follow-up")
    follow = session.get(FollowUp, follow_up_id)
    if follow is None:
        raise NotFound(f"No follow-up {follow_up_id}.")
    if follow.status != FollowUpStatus.DUE.value:
        raise InvalidInput(f"This follow-up is already {follow.status}.", field="status")
    item = agenda.add_item(session, actor=actor, conference_id=conference_id,
                           case_id=follow.case_id, planned_minutes=planned_minutes, now=now)
    follow.status = FollowUpStatus.SCHEDULED.value
    follow.scheduled_item_id = item.id
    session.add(follow)
    audit.record(session, actor_id=actor.id, action=AuditAction.TRANSITIONED,
                 entity=Entity.CASE, entity_id=follow.case_id, case_id=follow.case_id,
                 detail={"follow_up": follow_up_id, "to": "scheduled", "item": item.id},
                 now=now)
    return item


def returning(session: Session, item_id: int) -> FollowUp | None:
    """The follow-up that brought this item's case back, if it is a return visit."""
    return session.exec(select(FollowUp).where(FollowUp.scheduled_item_id == item_id)).first()


# -- handoffs ------------------------------------------------------------------------


def handoffs(session: Session, *, viewer: User, case_id: int) -> list[Handoff]:
    case = cases.get_case(session, case_id)
    if not cases.may_view(session, viewer=viewer, case=case):
        raise NotFound(f"No case with id {case_id}.")
    return list(session.exec(select(Handoff).where(Handoff.case_id == case_id)
                             .order_by(col(Handoff.due_on), col(Handoff.id))))


def open_handoffs(session: Session, *, owner_id: int | None = None) -> list[Handoff]:
    """Tasks not done (of one owner, or everyone's), soonest due first."""
    query = select(Handoff).where(col(Handoff.done_at).is_(None))
    if owner_id is not None:
        query = query.where(Handoff.owner_id == owner_id)
    return list(session.exec(query.order_by(col(Handoff.due_on), col(Handoff.id))))


def update_handoff(session: Session, *, actor: User, handoff_id: int, done: bool | None = None,
                   owner_id: int | None = None, set_owner: bool = False,
                   due_on: date | None = None, now: datetime | None = None) -> Handoff:
    """Its owner marks it done (or not); organisers also reassign and re-date it."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"No handoff {handoff_id}.")
    case = cases.get_case(session, handoff.case_id)
    if not cases.may_view(session, viewer=actor, case=case):
        raise NotFound(f"No handoff {handoff_id}.")
    organiser = is_organiser(actor.role)
    if not organiser and handoff.owner_id != actor.id:
        raise PermissionDenied("Only the task's owner or a coordinator updates it.")
    if (set_owner or due_on is not None) and not organiser:
        raise PermissionDenied("Only a coordinator reassigns a task or changes its date.")
    at = now or utcnow()
    if set_owner:
        if owner_id is not None:
            person = session.get(User, owner_id)
            if person is None or not person.active or not cases.may_view(
                    session, viewer=person, case=case):
                raise InvalidInput("The new owner must be someone who may open this case.",
                                   field="owner_id")
        handoff.owner_id = owner_id
    if due_on is not None:
        handoff.due_on = due_on
    if done is not None:
        handoff.done_at = at if done else None
        handoff.done_by_id = actor.id if done else None
    session.add(handoff)
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED, entity=Entity.CASE,
                 entity_id=handoff.case_id, case_id=handoff.case_id,
                 detail={"handoff": handoff_id, "done": handoff.done_at is not None}, now=at)
    return handoff
