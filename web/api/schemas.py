"""Request bodies of the JSON API: what each write route accepts, and nothing else.

Routes validate with these models and ``/api/v1/openapi.json`` is generated from
them, so the document is what the routes really accept. Models are strict (a
number is not a string, ``true`` is not ``1``) and refuse unknown fields; the
limits are the domain's own, so the schema tells a client the real ranges.
Each model converts itself to the domain's dataclass.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from conference.agenda import MAX_ITEM_MINUTES, MIN_ITEM_MINUTES
from conference.audit import Entity
from conference.cases import (
    MAX_AGE,
    TEXT_LIMIT,
    CareEntry,
    CaseDetails,
    Sex,
    TreatmentKind,
    TreatmentResponse,
    Urgency,
)
from conference.conferences import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, ConferenceStatus
from conference.decision import MAX_FOLLOW_UP_WEEKS, DecisionContent, Dissent
from conference.decision_outcomes import Outcome
from conference.guest_links import MAX_LIFETIME_HOURS
from conference.imaging import MAX_URL_LENGTH, Modality
from conference.mail import MailStatus
from conference.people import MAX_CREDENTIALS, ConferenceRole, Role, Specialty
from conference.quorum import QuorumRule, rule_from_dict
from conference.referrals import MAX_REFERRER_PATIENT_ID
from conference.text import holds_nul

# Ids are positive and fit a 32-bit column on every backend; a larger number is
# refused here rather than overflowing the database driver.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A name or title: surrounding spaces dropped, so "   " is no name at all.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=TEXT_LIMIT)]
ShortText = Annotated[str, Field(max_length=2000)]
LongText = Annotated[str, Field(max_length=20_000)]


def _plausible(value: datetime) -> datetime:
    # Far-off years overflow when moved to UTC; no conference is that far away.
    if not 2000 <= value.year <= 2200:
        raise ValueError("the year must be between 2000 and 2200")
    return value.astimezone(UTC)


StartsAt = Annotated[AwareDatetime, AfterValidator(_plausible)]


class Body(BaseModel):
    """Base of every request body: strict types, no unknown fields, no NUL in text."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # The same rule as the forms' (conference/text.py); a ValueError is how
        # pydantic reports it, naming the field.
        if holds_nul(value):
            raise ValueError("text may not contain a NUL character")
        return value


class Empty(Body):
    """A route that takes no body (or an empty object)."""


class TokenIn(Body):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1024)]


Credentials = Annotated[str, Field(max_length=MAX_CREDENTIALS,
                                   description='The letters after the name, e.g. "MD, FRCSC"')]


class UserIn(Body):
    email: Annotated[str, Field(max_length=254)]
    name: Name
    role: Role
    specialty: Specialty | None = None
    password: Annotated[str, Field(min_length=10, max_length=1024)]
    credentials: Credentials = ""


class UserUpdateIn(Body):
    """Only the fields sent change; ``"specialty": null`` clears it."""

    name: Name | None = None
    role: Role | None = None
    specialty: Specialty | None = None
    active: bool | None = None
    password: Annotated[str, Field(min_length=10, max_length=1024)] | None = None
    credentials: Credentials | None = None


class ConferenceIn(Body):
    title: Name
    starts_at: StartsAt = Field(description="ISO 8601 with a time zone offset")
    duration_minutes: Annotated[int, Field(ge=MIN_DURATION_MINUTES, le=MAX_DURATION_MINUTES)]
    chair_id: Id


class RequirementIn(Body):
    """At least one person with one of ``specialties`` must be present."""

    name: Name = Field(description="How the refusal names it, e.g. 'a surgeon'")
    specialties: Annotated[list[Specialty], Field(min_length=1, max_length=7)]


class QuorumRuleIn(Body):
    """A conference's own sign-off rule (the default: the chair for every decision,
    plus a surgeon and a non-surgical specialist for surgical outcomes)."""

    chair_required: bool = True
    always: Annotated[list[RequirementIn], Field(max_length=20)] = []
    by_outcome: dict[Outcome, Annotated[list[RequirementIn], Field(max_length=20)]] = {}

    def to_domain(self) -> QuorumRule:
        return rule_from_dict(self.model_dump(mode="json"))


class ConferenceStatusIn(Body):
    status: ConferenceStatus


class MemberIn(Body):
    user_id: Id
    conference_role: ConferenceRole


Minutes = Annotated[int, Field(ge=MIN_ITEM_MINUTES, le=MAX_ITEM_MINUTES)]


class AgendaItemIn(Body):
    case_id: Id
    planned_minutes: Minutes


class AgendaItemPatch(Body):
    planned_minutes: Minutes


class AgendaOrderIn(Body):
    item_ids: Annotated[list[Id], Field(max_length=500)]


class CareEntryIn(Body):
    kind: TreatmentKind
    description: ShortText
    started_on: date | None = None
    ended_on: date | None = None
    response: TreatmentResponse = TreatmentResponse.UNKNOWN
    notes: ShortText = ""

    def to_domain(self) -> CareEntry:
        return CareEntry(kind=self.kind, description=self.description,
                         started_on=self.started_on, ended_on=self.ended_on,
                         response=self.response, notes=self.notes)


class CasePatch(Body):
    """Corrections before the panel decides; only the fields sent change."""

    summary: Text | None = None
    question: Text | None = None
    urgency: Urgency | None = None
    eases: ShortText | None = None
    worsens: ShortText | None = None

    def changes(self) -> dict[str, str | Urgency]:
        return {name: value for name in self.model_fields_set
                if (value := getattr(self, name)) is not None}


class CaseIn(Body):
    patient_ref: Annotated[str, Field(max_length=40)] = Field(
        description="A pseudonymous code with at least one digit, never a name")
    age: Annotated[int, Field(ge=0, le=MAX_AGE)]
    sex: Sex
    summary: Text
    question: Text
    urgency: Urgency = Urgency.ROUTINE
    eases: ShortText = ""
    worsens: ShortText = ""
    care_history: Annotated[list[CareEntryIn], Field(max_length=100)] = []

    def to_domain(self) -> CaseDetails:
        return CaseDetails(
            patient_ref=self.patient_ref, age=self.age, sex=self.sex, summary=self.summary,
            question=self.question, urgency=self.urgency, eases=self.eases,
            worsens=self.worsens, care_history=tuple(e.to_domain() for e in self.care_history),
        )


class RequestIn(CaseIn):
    requested_specialties: Annotated[list[Specialty], Field(min_length=1, max_length=10)]
    referrer_patient_id: Annotated[str, Field(max_length=MAX_REFERRER_PATIENT_ID)] | None = Field(
        default=None, description="Your own identifier for the patient (a chart number), "
                                  "printed on the decision letter")


class ImagingIn(Body):
    url: Annotated[str, Field(max_length=MAX_URL_LENGTH)]
    modality: Modality
    study_date: date | None = None
    description: ShortText = ""
    study_instance_uid: Annotated[str, Field(max_length=64)] | None = None


class ImagingOrStudyIn(Body):
    """``POST /cases/{id}/imaging``: a viewer link with its details, or (with an image
    archive configured) only the ``study_instance_uid``: the details then come from
    the archive and the link is built for the site's viewer."""

    url: Annotated[str, Field(max_length=MAX_URL_LENGTH)] | None = None
    modality: Modality | None = None
    study_date: date | None = None
    description: ShortText = ""
    study_instance_uid: Annotated[str, Field(max_length=64)] | None = None


class StudyQuery(BaseModel):
    """``GET /dicomweb/studies`` query parameters, named as QIDO-RS names them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    patient_id: str | None = Field(default=None, alias="PatientID", max_length=64)
    study_instance_uid: str | None = Field(default=None, alias="StudyInstanceUID",
                                           max_length=64)


class DissentIn(Body):
    user_id: Id
    opinion: ShortText

    def to_domain(self) -> Dissent:
        return Dissent(user_id=self.user_id, opinion=self.opinion)


PresentIds = Annotated[list[Id], Field(max_length=200)]
Dissents = Annotated[list[DissentIn], Field(max_length=50)]
Weeks = Annotated[int, Field(ge=0, le=MAX_FOLLOW_UP_WEEKS)]
Version = Annotated[int, Field(ge=0, le=MAX_ID)]


class DecisionIn(Body):
    outcome: Outcome
    rationale: LongText
    plan: LongText
    follow_up_weeks: Weeks
    present_user_ids: PresentIds | None = Field(
        default=None, description="Defaults to who was in the room while the item was current")
    responsible_clinician_id: Id | None = None
    dissent: Dissents = []
    version: Version = Field(description="The version read; 0 for a new decision")
    attendance_note: ShortText | None = Field(
        default=None, description="Why anyone named present was not recorded in the room")

    def to_domain(self) -> DecisionContent:
        return DecisionContent(
            outcome=self.outcome, rationale=self.rationale, plan=self.plan,
            follow_up_weeks=self.follow_up_weeks,
            present_user_ids=tuple(self.present_user_ids or ()),
            responsible_clinician_id=self.responsible_clinician_id,
            dissent=tuple(d.to_domain() for d in self.dissent),
        )


class SignIn(Body):
    version: Version | None = Field(default=None, description="If given, must be current")


class AmendIn(Body):
    reason: ShortText
    outcome: Outcome | None = None
    rationale: LongText | None = None
    plan: LongText | None = None
    follow_up_weeks: Weeks | None = None
    present_user_ids: PresentIds | None = None
    responsible_clinician_id: Id | None = None
    dissent: Dissents | None = None
    version: Version | None = Field(default=None, description="If given, must be current")
    attendance_note: ShortText | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the chair changed, as DecisionContent keyword arguments."""
        changed: dict[str, Any] = {}
        for name in self.model_fields_set - {"reason", "version", "attendance_note"}:
            value = getattr(self, name)
            if value is None and name != "responsible_clinician_id":
                continue  # null means "unchanged" for fields that cannot be empty
            if name == "present_user_ids":
                value = tuple(value)
            elif name == "dissent":
                value = tuple(d.to_domain() for d in value)
            changed[name] = value
        return changed


class ScheduleIn(Body):
    conference_id: Id
    planned_minutes: Minutes


class DeclineIn(Body):
    reason: ShortText


class GuestLinkIn(Body):
    name: Name = Field(description="Who the link is for, shown in the room")
    expires_in_hours: Annotated[int, Field(ge=1, le=MAX_LIFETIME_HOURS)] | None = Field(
        default=None, description="Lifetime in hours; without it the link lasts until the "
                                  "conference has ended")


class AuditQuery(BaseModel):
    """``GET /audit`` query parameters (strings from the URL, so not strict)."""

    model_config = ConfigDict(extra="forbid")

    entity: Entity
    id: Id


class OutboxQuery(BaseModel):
    """``GET /outbox`` query parameters."""

    model_config = ConfigDict(extra="forbid")

    status: MailStatus | None = None


class MailSettingIn(Body):
    mail_notices: bool


class MessageIn(Body):
    body: Annotated[str, Field(max_length=20_000, description="1-4000 characters of plain text")]
    mentions: Annotated[list[Id], Field(max_length=50)] = Field(
        default_factory=list, description="Ids of people to notify; each must be able to "
                                          "open the case")


class ConferencePatch(Body):
    """``PATCH /conferences/{id}``: the fields to change; the rest stay."""

    title: Name | None = None
    starts_at: StartsAt | None = Field(default=None, description="ISO 8601 with an offset")
    duration_minutes: Annotated[
        int, Field(ge=MIN_DURATION_MINUTES, le=MAX_DURATION_MINUTES)] | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set
                if getattr(self, name) is not None}


class OutcomeIn(Body):
    instrument: Annotated[str, Field(max_length=16)] = Field(
        description="odi, ndi, nrs_back, nrs_leg, nrs_neck or nrs_arm")
    collected_on: date
    timepoint: Annotated[str, Field(max_length=16)] | None = Field(
        default=None, description="baseline, 6_weeks, 3_months, 6_months, 12_months, "
                                  "24_months or other")
    answers: Annotated[list[Annotated[int, Field(ge=0, le=5)] | None],
                       Field(min_length=10, max_length=10)] | None = Field(
        default=None, description="ODI/NDI: ten sections 0-5, null for one left blank")
    score: Annotated[float, Field(ge=0, le=100)] | None = Field(
        default=None, description="a total instead of answers (ODI/NDI 0-100; NRS 0-10)")


class OutcomeLinkIn(Body):
    instruments: Annotated[list[Annotated[str, Field(max_length=16)]],
                           Field(min_length=1, max_length=6)]
    timepoint: Annotated[str, Field(max_length=16)] | None = None
    expires_in_hours: Annotated[int, Field(ge=1, le=60 * 24)] | None = None
    send_to_referrer: bool = Field(default=False, description=(
        "mail the link to the case's referring clinician, to pass on to the patient"))


class FollowUpQuery(BaseModel):
    """``GET /follow-ups`` query parameters."""

    model_config = ConfigDict(extra="forbid")

    due_before: date | None = None


class HandoffPatch(Body):
    done: bool | None = None
    owner_id: Id | None = None
    due_on: date | None = None


class SearchQuery(BaseModel):
    """``GET /search`` query parameters."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class SimilarQuery(BaseModel):
    """``GET /cases/{id}/similar`` query parameters."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=20)] = 5


class AnalyticsQuery(BaseModel):
    """``GET /analytics`` query parameters (``from`` and ``to`` dates, inclusive)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
