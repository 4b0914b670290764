"""The SQLModel tables: one class per stored noun.

Enumerations are stored as short strings (not native enum types) so migrations
stay the same on SQLite and PostgreSQL. Times are aware UTC datetimes.
Signed decision revisions and audit events are append-only: no repository
function updates or deletes them, and database triggers refuse it (see the
initial migration).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, true
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from conference.agenda import ItemStatus
from conference.audit import AuditAction, Entity
from conference.cases import Sex, TreatmentKind, TreatmentResponse, Urgency
from conference.conferences import ConferenceStatus
from conference.decision import DecisionStatus
from conference.decision_outcomes import Outcome
from conference.imaging import Modality
from conference.mail import MailKind, MailStatus
from conference.people import ConferenceRole, Role, Specialty
from conference.referrals import RequestStatus
from storage.types import UTCDateTime


def enum_type(enum: type[StrEnum]) -> SAEnum:
    return SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=enum_type(Role))
    specialty: Specialty | None = Field(default=None, sa_type=enum_type(Specialty))
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = utc()
    # Raised to revoke every session and token issued before (web/auth.py).
    credential_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The letters after the name on a signed letter ("MD, FRCSC"); empty for most.
    credentials: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    # Part of the personal calendar feed's address: raised to revoke that address.
    calendar_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # False: the person's notices stay in the inbox, without mail (invitations still go).
    mail_notices: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted per (account, client address) and per address alone
    (``account`` empty), so an attacker's failures slow the attacker and not the
    owner signing in from elsewhere (``conference/signin.py``, ``storage/throttle.py``).
    ``account`` is a digest of the typed address: unknown ones are counted the same
    way as existing ones, and what strangers typed is not kept readable."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("account", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64)
    address: str = Field(max_length=64)
    failures: int
    last_failure_at: datetime = utc()


class Conference(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    starts_at: datetime = utc(index=True)
    duration_minutes: int
    chair_id: int = Field(foreign_key="user.id")
    status: ConferenceStatus = Field(
        default=ConferenceStatus.DRAFT, sa_type=enum_type(ConferenceStatus)
    )
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc()
    # The live agenda: which item is being discussed now and since when, so a
    # late or reconnecting participant is told in ``welcome``.
    current_item_id: int | None = None
    current_started_at: datetime | None = utc(nullable=True)
    quorum_rule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # The invitation's SEQUENCE: raised each time a published conference is re-timed
    # or re-titled, so calendar programs replace what they hold (conference/calendar.py).
    calendar_sequence: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set when a published conference is closed before it was held: cancelled.
    cancelled_at: datetime | None = utc(nullable=True)


class ConferenceMember(SQLModel, table=True):
    __tablename__ = "conference_member"
    __table_args__ = (UniqueConstraint("conference_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    conference_role: ConferenceRole = Field(sa_type=enum_type(ConferenceRole))
    added_at: datetime = utc()


class Case(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    patient_ref: str = Field(max_length=40, index=True)
    age: int
    sex: Sex = Field(sa_type=enum_type(Sex))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    question: str = Field(sa_column=Column(Text, nullable=False))
    urgency: Urgency = Field(default=Urgency.ROUTINE, sa_type=enum_type(Urgency))
    eases: str = Field(default="", sa_column=Column(Text, nullable=False))
    worsens: str = Field(default="", sa_column=Column(Text, nullable=False))
    requested_by_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc()


class CareEntry(SQLModel, table=True):
    __tablename__ = "care_entry"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    position: int
    kind: TreatmentKind = Field(sa_type=enum_type(TreatmentKind))
    description: str = Field(sa_column=Column(Text, nullable=False))
    started_on: date | None = None
    ended_on: date | None = None
    response: TreatmentResponse = Field(sa_type=enum_type(TreatmentResponse))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))


class ImagingLink(SQLModel, table=True):
    __tablename__ = "imaging_link"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    modality: Modality = Field(sa_type=enum_type(Modality))
    study_date: date | None = None
    description: str = Field(default="", max_length=2000)
    study_instance_uid: str | None = Field(default=None, max_length=64)
    added_by_id: int | None = Field(default=None, foreign_key="user.id")
    added_at: datetime = utc()


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("conference_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    position: int
    planned_minutes: int
    status: ItemStatus = Field(default=ItemStatus.PENDING, sa_type=enum_type(ItemStatus))
    started_at: datetime | None = utc(nullable=True)
    ended_at: datetime | None = utc(nullable=True)


class Attendance(SQLModel, table=True):
    """Who was in the room while an agenda item was current."""

    __table_args__ = (UniqueConstraint("agenda_item_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    first_seen_at: datetime = utc()
    last_seen_at: datetime = utc()


class DecisionFields(SQLModel):
    """What a decision says: the clinical content shared by the working draft, each
    signed revision and the API's views of both (``web/api/views.py``), written once.
    Dissent is not here: the tables keep it as JSON, the views as DissentView."""

    outcome: Outcome = Field(sa_type=enum_type(Outcome))
    rationale: str = Field(sa_type=Text, nullable=False)
    plan: str = Field(sa_type=Text, nullable=False)
    follow_up_weeks: int
    # No defaults: every decision states both (the views say so to API clients).
    responsible_clinician_id: int | None = Field(foreign_key="user.id")
    # nullable, as the first migration made it (a list is always written)
    present_user_ids: list[int] = Field(sa_type=JSON, nullable=True)


class Decision(DecisionFields, table=True):
    """The working decision of one agenda item: the draft, and after signing the
    version counter that amendments advance. Signed content lives in
    :class:`DecisionRevision`."""

    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", unique=True)
    dissent: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    status: DecisionStatus = Field(
        default=DecisionStatus.DRAFT, sa_type=enum_type(DecisionStatus)
    )
    version: int = 1
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = utc()
    # False while the present list follows the room's attendance; True once the chair
    # (or a member) chose who was present.
    presence_edited: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    attendance_note: str | None = Field(default=None, sa_column=Column(Text))


class DecisionRevision(DecisionFields, table=True):
    """One signed revision: revision 1 is the signature, later ones amendments."""

    __tablename__ = "decision_revision"
    __table_args__ = (UniqueConstraint("agenda_item_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    revision: int
    version: int
    dissent: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    amendment_reason: str | None = Field(default=None, sa_column=Column(Text))
    # Named present but not recorded in the room while the item was current.
    present_by_hand: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    attendance_note: str | None = Field(default=None, sa_column=Column(Text))
    signed_by_id: int = Field(foreign_key="user.id")
    signed_at: datetime = utc()


class SecondOpinionRequest(SQLModel, table=True):
    __tablename__ = "second_opinion_request"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", unique=True)
    requested_by_id: int = Field(foreign_key="user.id", index=True)
    requested_specialties: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # The referring clinician's own identifier for the patient (their chart number),
    # printed on the letter so they can file it; optional.
    referrer_patient_id: str | None = Field(default=None, max_length=64)
    status: RequestStatus = Field(
        default=RequestStatus.SUBMITTED, sa_type=enum_type(RequestStatus)
    )
    decline_reason: str | None = Field(default=None, sa_column=Column(Text))
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    submitted_at: datetime = utc()
    accepted_at: datetime | None = utc(nullable=True)
    declined_at: datetime | None = utc(nullable=True)
    scheduled_at: datetime | None = utc(nullable=True)
    discussed_at: datetime | None = utc(nullable=True)
    answered_at: datetime | None = utc(nullable=True)


class GuestLink(SQLModel, table=True):
    """A link that lets one outside clinician see one agenda item's case and join the
    live room while it is current (``conference/guest_links.py``). The signed token
    names the row, so a revoked or expired link stops working at once."""

    __tablename__ = "guest_link"

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", index=True)
    name: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc()
    expires_at: datetime = utc()
    revoked_at: datetime | None = utc(nullable=True)
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc()
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: AuditAction = Field(sa_type=enum_type(AuditAction))
    entity: Entity = Field(sa_type=enum_type(Entity))
    entity_id: int
    case_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


APPEND_ONLY_TABLES = ("decision_revision", "audit_event")


class CaseMessage(SQLModel, table=True):
    """One line of a case's thread: written on the case page, over the API, or typed
    in the live room (then ``item_id`` names the agenda item that was current). A
    room line typed while no case was current belongs to no case (``case_id`` None)
    and is kept with its conference."""

    __tablename__ = "case_message"
    __table_args__ = (Index("ix_case_message_case", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    conference_id: int | None = Field(default=None, foreign_key="conference.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    author_id: int = Field(foreign_key="user.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    mentions: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = utc()


class Notification(SQLModel, table=True):
    """Something that happened that a person should hear of (a mention, a request's
    progress, a letter ready), shown in their inbox. Like mail, it carries no
    clinical text: what happened, the pseudonymous patient reference, and a link."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user", "user_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=32)
    text: str = Field(max_length=300)
    link: str = Field(max_length=300)
    created_at: datetime = utc()
    read_at: datetime | None = utc(nullable=True)


class OutboxMail(SQLModel, table=True):
    """A mail to send, committed with the change it tells of; a sender delivers it
    (see ``web/mailer.py``). It holds what the mail says, never clinical text: the
    words of a notice (or an invitation's calendar) and the path of the page to open;
    the sender lays it out and makes the link absolute. ``message_key`` makes the
    ``Message-ID``, the same on every attempt."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    kind: MailKind = Field(sa_type=enum_type(MailKind))
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    to_address: str = Field(max_length=254)
    to_name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=300)
    # The iCalendar of an invitation or cancellation (its METHOD inside), else None.
    calendar: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: MailStatus = Field(default=MailStatus.PENDING, sa_type=enum_type(MailStatus))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc()
    next_attempt_at: datetime = utc()
    # While SENDING: the claim runs out at this time (a sender that died releases it).
    claimed_until: datetime | None = utc(nullable=True)
    sent_at: datetime | None = utc(nullable=True)


class OutcomeMeasure(SQLModel, table=True):
    """One patient-reported outcome measure of a case (``conference/outcomes.py``):
    entered by staff item by item or as a total, or answered by the patient through
    an outcome link. The score is kept in tenths (ODI 42.2 -> 422) so both databases
    store it exactly."""

    __tablename__ = "outcome_measure"
    __table_args__ = (Index("ix_outcome_measure_case", "case_id", "instrument"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    instrument: str = Field(max_length=16)
    timepoint: str | None = Field(default=None, max_length=16)
    collected_on: date
    answers: list[int | None] | None = Field(default=None, sa_column=Column(JSON))
    score_tenths: int
    answered: int
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    outcome_link_id: int | None = Field(default=None, foreign_key="outcome_link.id")
    recorded_at: datetime = utc()


class OutcomeLink(SQLModel, table=True):
    """A single-use, expiring link a patient opens to answer questionnaires about
    their case without an account. The signed token names the row."""

    __tablename__ = "outcome_link"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    instruments: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    timepoint: str | None = Field(default=None, max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc()
    expires_at: datetime = utc()
    used_at: datetime | None = utc(nullable=True)


class FollowUp(SQLModel, table=True):
    """A case due back before the panel, created when a decision with follow-up
    weeks is signed (``conference/care_loop.py``)."""

    __tablename__ = "follow_up"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id")  # the item whose decision set it
    outcome: str = Field(max_length=32)
    due_on: date = Field(index=True)
    status: str = Field(default="due", max_length=16)
    scheduled_item_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    created_at: datetime = utc()


class Handoff(SQLModel, table=True):
    """A post-operative task handed to one member of the care team."""

    __tablename__ = "handoff"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id")
    task: str = Field(max_length=200)
    owner_role: str = Field(max_length=32)
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    due_on: date
    done_at: datetime | None = utc(nullable=True)
    done_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = utc()
