"""Small builders for test data, on top of the real repository functions."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from conference.cases import CareEntry, CaseDetails, Sex, TreatmentKind, TreatmentResponse
from conference.people import ConferenceRole, Role, Specialty
from storage import agenda, cases, conferences, users
from storage.tables import AgendaItem, Case, Conference, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def user(session: Session, role: Role = Role.SPECIALIST, specialty: Specialty | None = None,
         name: str | None = None) -> User:
    n = next(_seq)
    if role is Role.SPECIALIST and specialty is None:
        specialty = Specialty.RADIOLOGY
    return users.create_user(session, email=f"person{n}@clinic.example", name=name or f"Person {n}",
                             role=role, specialty=specialty, password=PASSWORD)


def coordinator(session: Session) -> User:
    return user(session, Role.COORDINATOR)


def details(**kw: object) -> CaseDetails:
    base: dict[str, object] = dict(
        patient_ref=f"SPN-{next(_seq):04d}", age=58, sex=Sex.FEMALE,
        summary="Chronic low back pain, 14 months, range of motion plateaued in PT.",
        question="Is she a candidate for surgery, or should conservative care continue?",
        care_history=(
            CareEntry(TreatmentKind.PHYSICAL_THERAPY, "12 sessions, core stabilisation",
                      date(2026, 3, 1), date(2026, 5, 30), TreatmentResponse.UNCHANGED),
            CareEntry(TreatmentKind.INJECTION, "L4-5 epidural steroid injection",
                      date(2026, 7, 2), date(2026, 7, 2), TreatmentResponse.IMPROVED,
                      notes="Relief lasted three weeks"),
        ),
    )
    base.update(kw)
    return CaseDetails(**base)


def case(session: Session, actor: User, **kw: object) -> Case:
    return cases.create_case(session, actor=actor, details=details(**kw))


def conference(session: Session, actor: User, chair: User, minutes: int = 60) -> Conference:
    return conferences.create_conference(
        session, actor=actor, title="Weekly spine conference",
        starts_at=datetime.now(UTC) + timedelta(days=1), duration_minutes=minutes,
        chair_id=chair.id or 0,
    )


def member(session: Session, actor: User, conf: Conference, person: User,
           role: ConferenceRole = ConferenceRole.MEMBER) -> None:
    conferences.add_member(session, actor=actor, conference_id=conf.id or 0,
                           user_id=person.id or 0, conference_role=role)


def item(session: Session, actor: User, conf: Conference, minutes: int = 15) -> AgendaItem:
    c = case(session, actor)
    return agenda.add_item(session, actor=actor, conference_id=conf.id or 0, case_id=c.id or 0,
                           planned_minutes=minutes)
