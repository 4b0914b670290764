"""What the JSON API returns: one model per stored noun, built from the table rows.

Times are ISO 8601 in UTC with an explicit ``+00:00`` offset. The OpenAPI
document describes responses with these same models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from sqlmodel import SQLModel

from conference import guest_links
from conference.agenda import ItemStatus
from conference.audit import AuditAction, Entity
from conference.cases import Sex, TreatmentKind, TreatmentResponse, Urgency
from conference.conferences import ConferenceStatus
from conference.decision import DecisionStatus
from conference.decision_outcomes import Outcome
from conference.guest_links import LinkState
from conference.imaging import Modality
from conference.mail import MailKind, MailStatus
from conference.people import ConferenceRole, Role, Specialty
from conference.referrals import RequestStatus
from storage.clock import utcnow
from storage.tables import DecisionFields
from storage.tables import GuestLink as GuestLinkRow


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


UTCTime = Annotated[datetime, PlainSerializer(_utc, return_type=str)]


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Error(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: Error


class Token(View):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: UTCTime


class UserView(View):
    id: int
    email: str
    name: str
    role: Role
    specialty: Specialty | None
    active: bool
    credentials: str


class MemberView(View):
    user_id: int
    name: str
    role: Role
    specialty: Specialty | None
    conference_role: ConferenceRole
    added_at: UTCTime


class AgendaItemView(View):
    id: int
    conference_id: int
    case_id: int
    position: int
    planned_minutes: int
    status: ItemStatus
    started_at: UTCTime | None
    ended_at: UTCTime | None


class AlsoOnView(BaseModel):
    """Another conference whose agenda already holds the case, undecided."""

    conference_id: int
    title: str
    starts_at: UTCTime


class AddedItemView(AgendaItemView):
    """A new agenda item, and the other agendas that already hold its case (a warning:
    two panels might decide it twice)."""

    also_on: list[AlsoOnView]


class Timing(View):
    """Planned minutes of all items against the meeting's length."""

    planned_minutes: int
    duration_minutes: int
    over_by: int
    remaining: int


class ConferenceView(View):
    id: int
    title: str
    starts_at: UTCTime
    duration_minutes: int
    chair_id: int
    status: ConferenceStatus
    current_item_id: int | None
    current_started_at: UTCTime | None


class RequirementView(View):
    name: str
    specialties: list[Specialty]


class QuorumRuleView(View):
    chair_required: bool
    always: list[RequirementView]
    by_outcome: dict[Outcome, list[RequirementView]]
    custom: bool = Field(description="False while the conference uses the default rule")
    description: list[str]


class ConferenceDetail(ConferenceView):
    members: list[MemberView]
    agenda: list[AgendaItemView]
    timing: Timing


class CareEntryView(View):
    id: int
    position: int
    kind: TreatmentKind
    description: str
    started_on: date | None
    ended_on: date | None
    response: TreatmentResponse
    notes: str


class StudyView(View):
    """A study in the hospital's image archive (DICOMweb)."""

    study_instance_uid: str
    modality: Modality
    study_date: date | None
    description: str


class ImagingView(View):
    id: int
    case_id: int
    url: str
    modality: Modality
    study_date: date | None
    description: str
    study_instance_uid: str | None
    added_by_id: int | None
    added_at: UTCTime


class DissentView(View):
    user_id: int
    opinion: str


# The decision views take their clinical fields from DecisionFields and their identity
# from a head class. Pydantic orders fields base first, in reverse MRO, so the head,
# listed last among the bases, puts its fields first: the JSON keeps the key order it
# had before DecisionFields existed (id first). The heads are SQLModel, like
# DecisionFields, so that the bases agree on one config (SQLModel's reads attributes too).


class _DecisionHead(SQLModel):
    id: int
    agenda_item_id: int
    status: DecisionStatus
    version: int


class DecisionView(DecisionFields, _DecisionHead):
    """The working decision of an agenda item: a draft, or the signed current state."""

    dissent: list[DissentView]
    updated_by_id: int | None
    updated_at: UTCTime
    presence_edited: bool = False
    attendance_note: str | None = None
    present_by_hand: list[int] = Field(
        default_factory=list, description="Named present but not recorded in the room")


class _RevisionHead(SQLModel):
    id: int
    agenda_item_id: int
    case_id: int
    status: Literal["signed"] = "signed"
    revision: int
    version: int


class RevisionView(DecisionFields, _RevisionHead):
    """One signed revision: 1 is the signature, later ones amendments."""

    dissent: list[DissentView]
    amendment_reason: str | None
    signed_by_id: int
    signed_at: UTCTime
    present_by_hand: list[int] = Field(default_factory=list)
    attendance_note: str | None = None


class CaseSummary(View):
    id: int
    patient_ref: str
    age: int
    sex: Sex
    urgency: Urgency
    question: str
    requested_by_id: int | None
    created_at: UTCTime


class CaseView(CaseSummary):
    summary: str
    eases: str
    worsens: str
    created_by_id: int | None
    care_history: list[CareEntryView]
    imaging: list[ImagingView]
    decision: RevisionView | None


class RequestView(View):
    id: int
    case_id: int
    requested_by_id: int
    requested_specialties: list[Specialty]
    referrer_patient_id: str | None
    status: RequestStatus
    decline_reason: str | None
    agenda_item_id: int | None
    submitted_at: UTCTime
    accepted_at: UTCTime | None
    declined_at: UTCTime | None
    scheduled_at: UTCTime | None
    discussed_at: UTCTime | None
    answered_at: UTCTime | None
    turnaround_hours: float | None = Field(
        default=None, description="From submission to the signed answer, once answered")
    decision: RevisionView | None = None


class AuditEventView(View):
    id: int
    at: UTCTime
    actor_id: int | None
    action: AuditAction
    entity: Entity
    entity_id: int
    case_id: int | None
    detail: dict[str, Any]


class GuestLink(View):
    id: int
    token: str
    url: str
    expires_at: UTCTime
    conference_id: int
    agenda_item_id: int
    name: str


class GuestLinkEntry(View):
    """A stored guest link as coordinators see it (the token itself is not kept)."""

    id: int
    conference_id: int
    agenda_item_id: int
    name: str
    created_at: UTCTime
    expires_at: UTCTime
    revoked_at: UTCTime | None
    state: LinkState

    @classmethod
    def of(cls, link: GuestLinkRow) -> GuestLinkEntry:
        assert link.id is not None
        return cls(id=link.id, conference_id=link.conference_id,
                   agenda_item_id=link.agenda_item_id, name=link.name,
                   created_at=link.created_at, expires_at=link.expires_at,
                   revoked_at=link.revoked_at,
                   state=guest_links.state(expires_at=link.expires_at,
                                           revoked_at=link.revoked_at, now=utcnow()))


class MessageView(View):
    """One line of a case's thread (or of a room's chat with no case current)."""

    id: int
    case_id: int | None
    item_id: int | None
    author_id: int
    author_name: str
    body: str
    mentions: list[int]
    created_at: UTCTime


class NotificationView(View):
    """One of the signed-in person's notifications."""

    id: int
    kind: str
    text: str
    link: str
    created_at: UTCTime
    read: bool


class OutboxMailView(View):
    """One mail in the outbox (admins): to whom, about what, and how sending went."""

    id: int
    kind: MailKind
    to: str
    subject: str
    link: str
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: UTCTime
    next_attempt_at: UTCTime
    sent_at: UTCTime | None


class MailSettingView(View):
    """Whether the signed-in person gets notices by mail (invitations always go)."""

    mail_notices: bool


class CalendarFeedView(View):
    """A person's calendar subscription address (keep it private: it needs no sign-in)."""

    url: str


class OutcomeView(View):
    """One outcome measure."""

    id: int
    instrument: str
    score: float
    answered: int
    collected_on: date
    timepoint: str | None


class OutcomeSeriesView(OutcomeView):
    """A measure against the case's baseline for its instrument (negative is better)."""

    change_from_baseline: float
    mcid_reached: bool


class OutcomeLinkView(BaseModel):
    """The address a patient opens to answer, once, before it expires."""

    url: str
    token: str
    expires_at: UTCTime
    mailed_to: str | None = None  # the referring clinician's name, when it was mailed


class FollowUpView(View):
    """A case due back before the panel."""

    id: int
    case_id: int
    due_on: date
    outcome: str
    status: str
    scheduled_item_id: int | None


class HandoffView(View):
    """A post-operative task with its owner."""

    id: int
    task: str
    owner_role: str
    owner_id: int | None
    due_on: date
    done_at: UTCTime | None


class SearchHitView(View):
    """A case that matched, with where it matched ([brackets] around the words)."""

    case_id: int
    patient_ref: str
    snippet: str
    outcome: str | None


class SimilarCaseView(SearchHitView):
    """A past decided case like this one, with how its patient has done since."""

    scores: list[str]


class MinutesView(BaseModel):
    planned: int
    actual: int


class TurnaroundView(BaseModel):
    median: float | None
    p90: float | None


class AnalyticsView(BaseModel):
    """How the meetings in a period ran, and how their patients have done."""

    conferences: int
    cases_discussed: int
    deferred: int
    minutes: MinutesView
    per_case: list[dict[str, int | None]]
    per_meeting: list[dict[str, Any]]
    turnaround_hours: TurnaroundView
    attendance_by_specialty: dict[str, int]
    outcomes: dict[str, int]
    improvement_by_outcome: dict[str, dict[str, float | int | None]]
