"""Second-opinion requests: submitted by a referring clinician, worked by coordinators."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from conference import announcements
from conference.audit import AuditAction, Entity
from conference.cases import CaseDetails
from conference.errors import IllegalTransition, NotFound, PermissionDenied
from conference.people import Role, Specialty
from conference.permissions import is_organiser, require_organiser
from conference.referrals import (
    RequestStatus,
    check_decline_reason,
    check_referrer_patient_id,
    check_requested_specialties,
    median_turnaround,
    path_to,
    turnaround,
)
from storage import audit, notifications
from storage.agenda import add_item
from storage.cases import create_case
from storage.clock import utcnow
from storage.tables import AgendaItem, Case, Conference, SecondOpinionRequest, User

STAMP = {
    RequestStatus.ACCEPTED: "accepted_at",
    RequestStatus.DECLINED: "declined_at",
    RequestStatus.SCHEDULED: "scheduled_at",
    RequestStatus.DISCUSSED: "discussed_at",
    RequestStatus.ANSWERED: "answered_at",
}


def submit(
    session: Session,
    *,
    actor: User,
    details: CaseDetails,
    requested_specialties: list[Specialty],
    referrer_patient_id: str | None = None,
    now: datetime | None = None,
) -> SecondOpinionRequest:
    """A referring clinician asks the team about a case; the case is created with it.
    ``referrer_patient_id`` is their own chart number, printed on the letter."""
    if actor.role is not Role.REFERRING_CLINICIAN and not is_organiser(actor.role):
        raise PermissionDenied("Only a referring clinician (or a coordinator for them) "
                               "submits a second-opinion request.")
    check_requested_specialties(requested_specialties)
    own_id = check_referrer_patient_id(referrer_patient_id)
    at = now or utcnow()
    case = create_case(session, actor=actor, details=details, requested_by_id=actor.id, now=at)
    assert case.id is not None and actor.id is not None
    request = SecondOpinionRequest(
        case_id=case.id, requested_by_id=actor.id,
        requested_specialties=sorted({s.value for s in requested_specialties}),
        referrer_patient_id=own_id, submitted_at=at,
    )
    session.add(request)
    session.flush()
    assert request.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED, entity=Entity.REQUEST,
                 entity_id=request.id, case_id=case.id, now=at)
    coordinators = session.exec(select(User.id).where(
        User.role == Role.COORDINATOR, col(User.active).is_(True)))
    notifications.tell(session, [c for c in coordinators if c is not None],
                       announcements.submitted(case.patient_ref, request.id, actor.name),
                       now=at)
    return request


def _ref(session: Session, request: SecondOpinionRequest) -> str:
    case = session.get(Case, request.case_id)
    return case.patient_ref if case else "your patient"


def letter_ready(session: Session, *, case_id: int, revision: int, at: datetime) -> None:
    """A decision on a requested case was signed or amended: its requester hears."""
    request = request_for_case(session, case_id)
    if request is not None and request.id is not None:
        notifications.tell(session, [request.requested_by_id], announcements.letter_ready(
            _ref(session, request), request.id, revision), now=at)


def get_request(session: Session, request_id: int) -> SecondOpinionRequest:
    request = session.get(SecondOpinionRequest, request_id)
    if request is None:
        raise NotFound(f"No second-opinion request with id {request_id}.")
    return request


def view_request(session: Session, *, viewer: User, request_id: int) -> SecondOpinionRequest:
    """Coordinators see every request; a referring clinician only their own."""
    request = get_request(session, request_id)
    if not is_organiser(viewer.role) and request.requested_by_id != viewer.id:
        raise NotFound(f"No second-opinion request with id {request_id}.")
    return request


def _walk(request: SecondOpinionRequest, target: RequestStatus, at: datetime) -> None:
    """Every legal step to ``target``, each with its own timestamp."""
    for step in path_to(request.status, target):
        request.status = step
        setattr(request, STAMP[step], at)


def answer_for_case(session: Session, *, case_id: int, at: datetime) -> None:
    """Signing the decision of a requested case answers the request."""
    request = session.exec(
        select(SecondOpinionRequest).where(SecondOpinionRequest.case_id == case_id)
    ).first()
    if request is None or request.status in (RequestStatus.ANSWERED, RequestStatus.DECLINED):
        return
    _walk(request, RequestStatus.ANSWERED, at)
    session.add(request)


def _move(session: Session, request: SecondOpinionRequest, target: RequestStatus,
          *, actor: User, at: datetime) -> None:
    previous = request.status
    _walk(request, target, at)
    session.add(request)
    assert request.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.TRANSITIONED,
                 entity=Entity.REQUEST, entity_id=request.id, case_id=request.case_id,
                 detail={"from": previous.value, "to": target.value}, now=at)


def accept(session: Session, *, actor: User, request_id: int,
           now: datetime | None = None) -> SecondOpinionRequest:
    require_organiser(actor.role, "accept a request")
    request = get_request(session, request_id)
    at = now or utcnow()
    _move(session, request, RequestStatus.ACCEPTED, actor=actor, at=at)
    notifications.tell(session, [request.requested_by_id],
                       announcements.accepted(_ref(session, request), request_id), now=at)
    return request


def decline(session: Session, *, actor: User, request_id: int, reason: str,
            now: datetime | None = None) -> SecondOpinionRequest:
    require_organiser(actor.role, "decline a request")
    check_decline_reason(reason)
    request = get_request(session, request_id)
    at = now or utcnow()
    _move(session, request, RequestStatus.DECLINED, actor=actor, at=at)
    request.decline_reason = reason.strip()
    notifications.tell(session, [request.requested_by_id],
                       announcements.declined(_ref(session, request), request_id), now=at)
    return request


def schedule(
    session: Session, *, actor: User, request_id: int, conference_id: int,
    planned_minutes: int, now: datetime | None = None,
) -> tuple[SecondOpinionRequest, AgendaItem]:
    """Accept (if still submitted) and put the request's case on a conference's agenda."""
    require_organiser(actor.role, "schedule a request")
    at = now or utcnow()
    request = get_request(session, request_id)
    if request.status not in (RequestStatus.SUBMITTED, RequestStatus.ACCEPTED):
        raise IllegalTransition("second-opinion request", request.status.value,
                                RequestStatus.SCHEDULED.value)
    item = add_item(session, actor=actor, conference_id=conference_id, case_id=request.case_id,
                    planned_minutes=planned_minutes, now=at)
    _move(session, request, RequestStatus.SCHEDULED, actor=actor, at=at)
    request.agenda_item_id = item.id
    conf = session.get(Conference, conference_id)
    assert conf is not None
    notifications.tell(session, [request.requested_by_id], announcements.scheduled(
        _ref(session, request), request_id, conf.title, conf.starts_at), now=at)
    return request, item


def requests_of(session: Session, *, viewer: User) -> list[SecondOpinionRequest]:
    """Newest first: a clinician's own requests, or every request for a coordinator."""
    query = select(SecondOpinionRequest).order_by(
        col(SecondOpinionRequest.submitted_at).desc(), col(SecondOpinionRequest.id).desc())
    if not is_organiser(viewer.role):
        query = query.where(SecondOpinionRequest.requested_by_id == viewer.id)
    return list(session.exec(query))


def queue(session: Session) -> list[SecondOpinionRequest]:
    """Requests a coordinator still has to act on, oldest first."""
    return list(session.exec(
        select(SecondOpinionRequest)
        .where(col(SecondOpinionRequest.status).in_(
            [RequestStatus.SUBMITTED, RequestStatus.ACCEPTED]))
        .order_by(col(SecondOpinionRequest.submitted_at))
    ))


def request_for_case(session: Session, case_id: int) -> SecondOpinionRequest | None:
    """The second-opinion request a case came with, if it came with one."""
    return session.exec(
        select(SecondOpinionRequest).where(SecondOpinionRequest.case_id == case_id)
    ).first()


def turnaround_of(request: SecondOpinionRequest) -> timedelta | None:
    """From submission to the signed answer, once answered."""
    return turnaround({RequestStatus.SUBMITTED: request.submitted_at,
                       **({RequestStatus.ANSWERED: request.answered_at}
                          if request.answered_at else {})})


def turnaround_summary(session: Session) -> tuple[int, timedelta | None]:
    """How many requests were answered, and their median turnaround."""
    answered = session.exec(
        select(SecondOpinionRequest).where(col(SecondOpinionRequest.answered_at).is_not(None))
    ).all()
    durations = [d for d in (turnaround_of(r) for r in answered) if d is not None]
    return len(durations), median_turnaround(durations)
