"""Small builders for test data, on top of the real repository functions."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypedDict, TypeVar, Unpack

from sqlmodel import Session, col, select
from starlette.applications import Starlette

from conference.cases import (
    CareEntry,
    CaseDetails,
    Sex,
    TreatmentKind,
    TreatmentResponse,
    Urgency,
)
from conference.conferences import ConferenceStatus
from conference.people import ConferenceRole, Role, Specialty
from storage import agenda, cases, conferences, guest_links, users
from storage.engine import session_scope
from storage.tables import AgendaItem, Case, Conference, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)
T = TypeVar("T")


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _Row) -> int:
    """A stored row's id: a table's id is ``int | None`` until the row is flushed, and every
    row a test passes on has been; failing here says so, where ``row.id or 0`` would not."""
    assert row.id is not None, f"{row!r} has no id: it was never flushed"
    return row.id


def found(value: T | None) -> T:
    """A looked-up value the test needs to be there (a row, a regex match, a header): the
    assertion names the missing thing, where reading an attribute of None would not."""
    assert value is not None, "expected a value, found None"
    return value


class DetailsChanges(TypedDict, total=False):
    """The fields of :class:`CaseDetails` a test may set; the rest keep the defaults below."""

    patient_ref: str
    age: int
    sex: Sex
    summary: str
    question: str
    urgency: Urgency
    eases: str
    worsens: str
    care_history: tuple[CareEntry, ...]


def user(session: Session, role: Role = Role.SPECIALIST, specialty: Specialty | None = None,
         name: str | None = None) -> User:
    n = next(_seq)
    if role is Role.SPECIALIST and specialty is None:
        specialty = Specialty.RADIOLOGY
    return users.create_user(session, email=f"person{n}@clinic.example", name=name or f"Person {n}",
                             role=role, specialty=specialty, password=PASSWORD)


def coordinator(session: Session) -> User:
    return user(session, Role.COORDINATOR)


def details(**kw: Unpack[DetailsChanges]) -> CaseDetails:
    base = CaseDetails(
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
    return dataclasses.replace(base, **kw)


def case(session: Session, actor: User, **kw: Unpack[DetailsChanges]) -> Case:
    return cases.create_case(session, actor=actor, details=details(**kw))


def conference(session: Session, actor: User, chair: User, minutes: int = 60,
               starts_in: timedelta = timedelta(minutes=30)) -> Conference:
    """A conference about to start (its room open: see conference/signoff.py)."""
    return conferences.create_conference(
        session, actor=actor, title="Weekly spine conference",
        starts_at=datetime.now(UTC) + starts_in, duration_minutes=minutes,
        chair_id=id_of(chair),
    )


def member(session: Session, actor: User, conf: Conference, person: User,
           role: ConferenceRole = ConferenceRole.MEMBER) -> None:
    conferences.add_member(session, actor=actor, conference_id=id_of(conf),
                           user_id=id_of(person), conference_role=role)


def item(session: Session, actor: User, conf: Conference, minutes: int = 15) -> AgendaItem:
    c = case(session, actor)
    return agenda.add_item(session, actor=actor, conference_id=id_of(conf), case_id=id_of(c),
                           planned_minutes=minutes)


def guest_token(app: Starlette, *, item_id: int, name: str,
                lifetime: timedelta | None = None) -> str:
    """A guest link to one agenda item, made as a coordinator makes it (stored, so it
    can be revoked), and the token its holder uses."""
    with session_scope(app.state.engine) as session:
        actor = session.exec(select(User).where(
            col(User.role).in_([Role.COORDINATOR, Role.ADMIN]))).first() \
            or coordinator(session)
        link = guest_links.create_link(session, actor=actor, item_id=item_id, name=name,
                                       lifetime=lifetime)
        token: str = app.state.signer.issue_guest(link)
        return token


def other_conference_item(app: Starlette) -> int:
    """An agenda item of a second conference (for links that must not open the first)."""
    with session_scope(app.state.engine) as session:
        actor = coordinator(session)
        chair = user(session)
        return id_of(item(session, actor, conference(session, actor, chair)))


def hold(session: Session, conference_id: int, *, item_ids: Iterable[int],
         user_ids: Iterable[int]) -> None:
    """The meeting under way, with ``user_ids`` in the room for each of ``item_ids``
    (signing needs both: conference/signoff.py)."""
    conf = conferences.get_conference(session, conference_id)
    conf.status = ConferenceStatus.LIVE
    session.add(conf)
    people = list(user_ids)
    for item_id in item_ids:
        agenda.record_attendance(session, item_id=item_id, user_ids=people)
    session.flush()


def hold_demo(app: Starlette) -> None:
    """The demo conference held, every member in the room for every case."""
    with session_scope(app.state.engine) as session:
        conf = session.exec(select(Conference)).first()
        assert conf is not None and conf.id is not None
        hold(session, conf.id, item_ids=[id_of(i) for i in agenda.items(session, conf.id)],
             user_ids=conferences.member_ids(session, conf.id))


def held(session: Session, conf: Conference, item: AgendaItem) -> None:
    """``conf`` under way with all its members in the room for ``item``."""
    hold(session, id_of(conf), item_ids=[id_of(item)],
         user_ids=conferences.member_ids(session, id_of(conf)))


def case_of(app: Starlette, item_id: int) -> int:
    """The case an agenda item holds."""
    with session_scope(app.state.engine) as session:
        return found(session.get(AgendaItem, item_id)).case_id


def hold_item(app: Starlette, conference_id: int, item_id: int, user_ids: list[int]) -> None:
    """:func:`hold` for one item, in a transaction of its own (for API tests)."""
    with session_scope(app.state.engine) as session:
        hold(session, conference_id, item_ids=[item_id], user_ids=user_ids)
