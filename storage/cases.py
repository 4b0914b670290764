"""Cases, their history of care and their imaging links."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from conference import permissions
from conference.audit import AuditAction, Entity
from conference.cases import (
    EDITABLE_FIELDS,
    CaseDetails,
    Urgency,
    check_care_entry,
    check_case,
    check_case_details,
    check_case_editable,
    check_patient_ref,
    check_text,
)
from conference.cases import CareEntry as CareEntryDetails
from conference.errors import InvalidInput, NotFound, PermissionDenied
from conference.imaging import Modality, check_imaging_url, check_study_instance_uid
from conference.people import ConferenceRole
from conference.permissions import can_edit_case, can_view_case, is_organiser
from storage import audit
from storage.clock import utcnow
from storage.tables import (
    AgendaItem,
    CareEntry,
    Case,
    ConferenceMember,
    DecisionRevision,
    ImagingLink,
    User,
)


@dataclass(frozen=True)
class ImagingPolicy:
    """The hospital's imaging-link settings (``CASEBRIDGE_IMAGING_HOSTS``; loopback
    http links only with ``CASEBRIDGE_DEVELOPMENT``)."""

    allowed_hosts: frozenset[str] | None = None
    allow_loopback_http: bool = False


def create_case(
    session: Session,
    *,
    actor: User,
    details: CaseDetails,
    requested_by_id: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Store a case and its history of care (checked in full first: nothing half-saved)."""
    at = now or utcnow()
    check_case_details(details, today=at.date())
    case = Case(
        patient_ref=check_patient_ref(details.patient_ref), age=details.age, sex=details.sex,
        summary=details.summary.strip(), question=details.question.strip(),
        urgency=details.urgency, eases=details.eases.strip(), worsens=details.worsens.strip(),
        requested_by_id=requested_by_id, created_by_id=actor.id, created_at=at,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    for position, e in enumerate(details.care_history):
        session.add(CareEntry(
            case_id=case.id, position=position, kind=e.kind, description=e.description.strip(),
            started_on=e.started_on, ended_on=e.ended_on, response=e.response,
            notes=e.notes.strip(),
        ))
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED, entity=Entity.CASE,
                 entity_id=case.id, case_id=case.id, now=at)
    return case


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"No case with id {case_id}.")
    return case


def is_conferring_on(session: Session, *, user_id: int, case_id: int) -> bool:
    """Is the person a member (not a guest) of a conference whose agenda holds the
    case? A guest membership opens only the guest's own requests' cases."""
    row = session.exec(
        select(AgendaItem.id)
        .join(ConferenceMember,
              col(ConferenceMember.conference_id) == col(AgendaItem.conference_id))
        .where(AgendaItem.case_id == case_id, ConferenceMember.user_id == user_id,
               ConferenceMember.conference_role != ConferenceRole.GUEST)
    ).first()
    return row is not None


def may_view(session: Session, *, viewer: User, case: Case) -> bool:
    assert viewer.id is not None and case.id is not None
    return can_view_case(
        role=viewer.role, user_id=viewer.id, requested_by_id=case.requested_by_id,
        member_of_its_conference=is_conferring_on(session, user_id=viewer.id, case_id=case.id),
    )


def _roles_on(session: Session, *, user_id: int, case_id: int) -> list[ConferenceRole]:
    """The person's roles in the conferences whose agenda holds the case."""
    rows = session.exec(
        select(ConferenceMember.conference_role)
        .join(AgendaItem, col(AgendaItem.conference_id) == col(ConferenceMember.conference_id))
        .where(AgendaItem.case_id == case_id, ConferenceMember.user_id == user_id))
    return [ConferenceRole(r) for r in rows]


def on_care_team(session: Session, *, user: User, case: Case) -> bool:
    """Whether the person works on the case (its thread, its outcomes): the rule is
    :func:`conference.permissions.on_care_team`."""
    assert user.id is not None and case.id is not None
    return user.active and permissions.on_care_team(
        role=user.role, user_id=user.id, requested_by_id=case.requested_by_id,
        conference_roles=_roles_on(session, user_id=user.id, case_id=case.id))


def view_case(session: Session, *, viewer: User, case_id: int, via: str | None = None,
              now: datetime | None = None) -> Case:
    """Read a case as ``viewer``: refused (as not found) if they may not see it; audited
    (``via`` names where it was shown when that is not the case page: "room")."""
    case = get_case(session, case_id)
    if not may_view(session, viewer=viewer, case=case):
        # Not found, not forbidden: an outsider learns nothing, not even that it exists.
        raise NotFound(f"No case with id {case_id}.")
    audit.record(session, actor_id=viewer.id, action=AuditAction.VIEWED, entity=Entity.CASE,
                 entity_id=case_id, case_id=case_id, detail={"via": via} if via else None,
                 now=now)
    return case


def record_shown(session: Session, *, viewer: User, case_ids: Iterable[int], via: str,
                 now: datetime | None = None) -> None:
    """Audit the cases a list showed ``viewer`` (their question, age, urgency: case
    content too), one event per case, naming the page (``via``)."""
    for case_id in sorted(set(case_ids)):
        audit.record(session, actor_id=viewer.id, action=AuditAction.VIEWED,
                     entity=Entity.CASE, entity_id=case_id, case_id=case_id,
                     detail={"via": via}, now=now)


def view_case_as_guest(session: Session, *, case_id: int, guest: str, item_id: int,
                       via: str | None = None, now: datetime | None = None) -> Case:
    """Read the one case a guest link opens (the caller checked the link); audited
    with the name the link was issued for."""
    case = get_case(session, case_id)
    detail: dict[str, object] = {"guest": guest, "item_id": item_id}
    if via:
        detail["via"] = via
    audit.record(session, actor_id=None, action=AuditAction.VIEWED, entity=Entity.CASE,
                 entity_id=case_id, case_id=case_id, detail=detail, now=now)
    return case


def care_history(session: Session, case_id: int) -> list[CareEntry]:
    return list(session.exec(
        select(CareEntry).where(CareEntry.case_id == case_id).order_by(col(CareEntry.position))
    ))


def imaging(session: Session, case_id: int) -> list[ImagingLink]:
    return list(session.exec(
        select(ImagingLink).where(ImagingLink.case_id == case_id)
        .order_by(col(ImagingLink.study_date), col(ImagingLink.id))
    ))


def add_imaging(
    session: Session,
    *,
    actor: User,
    case_id: int,
    url: str,
    modality: Modality,
    study_date: date | None = None,
    description: str = "",
    study_instance_uid: str | None = None,
    policy: ImagingPolicy = ImagingPolicy(),
    now: datetime | None = None,
) -> ImagingLink:
    """Attach a viewer link to a case after checking it against the hospital's policy."""
    _editable(session, actor, case_id, "add imaging")
    hosts: Collection[str] | None = policy.allowed_hosts
    clean_url = check_imaging_url(url, allowed_hosts=hosts,
                                  allow_loopback_http=policy.allow_loopback_http)
    uid = check_study_instance_uid(study_instance_uid) if study_instance_uid else None
    if len(description) > 2000:
        raise InvalidInput("A description is at most 2000 characters.", field="description")
    at = now or utcnow()
    if study_date and study_date > at.date():
        raise InvalidInput("A study cannot be dated in the future.", field="study_date")
    link = ImagingLink(case_id=case_id, url=clean_url, modality=modality, study_date=study_date,
                       description=description.strip(), study_instance_uid=uid,
                       added_by_id=actor.id, added_at=at)
    session.add(link)
    session.flush()
    assert link.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.ADDED, entity=Entity.IMAGING,
                 entity_id=link.id, case_id=case_id, now=at)
    return link


def visible_filter(viewer: User) -> ColumnElement[bool] | None:
    """The SQL condition on ``Case.id`` for the cases the person may open (None: all of
    them, for organisers): the listing, search and "similar" queries filter with it."""
    if is_organiser(viewer.role):
        return None
    conferring = (
        select(AgendaItem.case_id)
        .join(ConferenceMember,
              col(ConferenceMember.conference_id) == col(AgendaItem.conference_id))
        .where(ConferenceMember.user_id == viewer.id,
               ConferenceMember.conference_role != ConferenceRole.GUEST)
    )
    return or_(col(Case.requested_by_id) == viewer.id, col(Case.id).in_(conferring))


def visible_cases(session: Session, *, viewer: User) -> list[Case]:
    """Cases the person may open, newest first (for dashboards)."""
    query = select(Case).order_by(col(Case.created_at).desc(), col(Case.id).desc())
    condition = visible_filter(viewer)
    return list(session.exec(query if condition is None else query.where(condition)))


def require_editable(session: Session, actor: User, case_id: int, what: str) -> Case:
    """The case, if ``actor`` may change it (``what`` says what, for the refusal)."""
    return _editable(session, actor, case_id, what)


def _editable(session: Session, actor: User, case_id: int, what: str) -> Case:
    case = get_case(session, case_id)
    assert actor.id is not None
    if not can_edit_case(role=actor.role, user_id=actor.id, requested_by_id=case.requested_by_id):
        if not may_view(session, viewer=actor, case=case):
            raise NotFound(f"No case with id {case_id}.")
        raise PermissionDenied(f"Only a coordinator or the referring clinician can {what}.")
    return case


def add_care_entry(
    session: Session, *, actor: User, case_id: int, entry: CareEntryDetails,
    now: datetime | None = None,
) -> CareEntry:
    """Add one treatment to a case's history of care (it only ever grows)."""
    at = now or utcnow()
    _editable(session, actor, case_id, "add to the history of care")
    position = len(care_history(session, case_id))
    check_care_entry(entry, today=at.date(), index=position)
    row = CareEntry(case_id=case_id, position=position, kind=entry.kind,
                    description=entry.description.strip(), started_on=entry.started_on,
                    ended_on=entry.ended_on, response=entry.response, notes=entry.notes.strip())
    session.add(row)
    session.flush()
    audit.record(session, actor_id=actor.id, action=AuditAction.ADDED, entity=Entity.CASE,
                 entity_id=case_id, case_id=case_id,
                 detail={"care_history": entry.kind.value, "position": position}, now=at)
    return row


def update_case(
    session: Session, *, actor: User, case_id: int, changes: dict[str, str | Urgency],
    now: datetime | None = None,
) -> Case:
    """Correct a case's summary, question, urgency or what eases and worsens the pain."""
    case = _editable(session, actor, case_id, "change a case")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(f"These cannot be changed: {', '.join(sorted(unknown))}.",
                           field=sorted(unknown)[0])
    signed = session.exec(select(DecisionRevision.id).where(
        DecisionRevision.case_id == case_id)).first() is not None
    check_case_editable(has_signed_decision=signed)
    values = {k: v if isinstance(v, Urgency) else v.strip() for k, v in changes.items()}
    check_case(patient_ref=case.patient_ref, age=case.age,
               summary=str(values.get("summary", case.summary)),
               question=str(values.get("question", case.question)))
    for name in ("eases", "worsens"):
        if name in values:
            check_text(str(values[name]), field=name, required=False, limit=2000)
    changed = sorted(k for k, v in values.items() if getattr(case, k) != v)
    for name in changed:
        setattr(case, name, values[name])
    session.add(case)
    if changed:
        audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED, entity=Entity.CASE,
                     entity_id=case_id, case_id=case_id, detail={"fields": changed}, now=now)
    return case
