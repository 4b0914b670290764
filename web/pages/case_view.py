"""What the case page shows: the case, its timeline, imaging and a decision panel per
conference that discussed it, as the viewer is allowed to see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from conference import outcomes
from conference.audit import Entity
from conference.cases import TreatmentKind, TreatmentResponse, Urgency
from conference.conferences import ConferenceStatus
from conference.decision import DecisionStatus
from conference.decision_outcomes import OUTCOME_LABELS, SURGICAL_OUTCOMES
from conference.outcomes import Instrument, Timepoint
from conference.people import ConferenceRole
from conference.permissions import can_edit_case, is_organiser, may_draft
from conference.quorum import missing_for_quorum
from storage import (
    agenda,
    audit,
    care_loop,
    cases,
    conferences,
    decisions,
    referrals,
    search,
    threads,
    users,
)
from storage import outcomes as stored_outcomes
from storage.tables import (
    AgendaItem,
    CareEntry,
    Case,
    Conference,
    ConferenceMember,
    Decision,
    DecisionRevision,
    FollowUp,
    User,
)
from web.charts import OutcomeChart, outcome_chart
from web.pages.common import page
from web.pages.forms import Form
from web.precedents import latest_scores

OUTCOME_OPTIONS = [(o.value, label) for o, label in OUTCOME_LABELS.items()]


@dataclass
class DecisionPanel:
    """One agenda item's decision, as one viewer may see and act on it."""

    item: AgendaItem
    conf: Conference
    members: list[tuple[ConferenceMember, User]]
    decision: Decision | None
    revisions: list[DecisionRevision]
    show_draft: bool
    can_draft: bool
    is_chair: bool
    form: Form = field(default_factory=Form)
    sign_error: str | None = None
    stale: Decision | None = None
    attendance: list[int] = field(default_factory=list)
    quorum_missing: list[str] = field(default_factory=list)
    returning: FollowUp | None = None  # the follow-up that brought the case back
    by_hand: list[int] = field(default_factory=list)  # named present, not in the room
    meeting_started: bool = False

    @property
    def signed(self) -> bool:
        return self.decision is not None and self.decision.status is DecisionStatus.SIGNED

    @property
    def latest(self) -> DecisionRevision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def member_options(self) -> list[tuple[int, str]]:
        return [(u.id or 0, member_label(u, m)) for m, u in self.members
                if m.conference_role is not ConferenceRole.GUEST]

    @property
    def surgical_outcomes(self) -> list[str]:
        return sorted(o.value for o in SURGICAL_OUTCOMES)


def member_label(user: User, member: ConferenceMember | None = None) -> str:
    what = user.specialty.value.replace("_", " ") if user.specialty else user.role.value
    chair = ", chair" if member and member.conference_role is ConferenceRole.CHAIR else ""
    return f"{user.name} ({what}{chair})"


def decision_form(dec: Decision | DecisionRevision | None, attendance: list[int]) -> Form:
    """The draft or amendment form, pre-filled from the saved decision or attendance."""
    if dec is None:
        return Form.of({"version": 0, "present_user_ids": attendance, "dissent_rows": 1})
    values: dict[str, object] = {
        "version": dec.version, "outcome": dec.outcome.value, "rationale": dec.rationale,
        "plan": dec.plan, "follow_up_weeks": dec.follow_up_weeks,
        "responsible_clinician_id": dec.responsible_clinician_id,
        "present_user_ids": dec.present_user_ids, "dissent_rows": len(dec.dissent) + 1,
    }
    for row, d in enumerate(dec.dissent):
        values[f"dissent-{row}-user_id"] = d["user_id"]
        values[f"dissent-{row}-opinion"] = d["opinion"]
    return Form.of(values)


def _panel(session: Session, viewer: User, item: AgendaItem) -> DecisionPanel | None:
    assert viewer.id is not None and item.id is not None
    conf = conferences.get_conference(session, item.conference_id)
    role = conferences.role_in(session, conference_id=conf.id or 0, user_id=viewer.id)
    case = cases.get_case(session, item.case_id)
    if not (is_organiser(viewer.role) or role is not None
            or case.requested_by_id == viewer.id):
        return None
    dec = decisions.get_decision(session, item.id)
    attendance = agenda.present_for(session, item.id)
    panel = DecisionPanel(
        item=item, conf=conf, members=conferences.members(session, conf.id or 0),
        decision=dec, revisions=decisions.history(session, item.id),
        show_draft=is_organiser(viewer.role) or may_draft(role),
        can_draft=may_draft(role), is_chair=viewer.id == conf.chair_id,
        attendance=attendance,
    )
    panel.form = decision_form(dec, attendance)
    panel.returning = care_loop.returning(session, item.id)
    panel.meeting_started = conf.status in (ConferenceStatus.LIVE, ConferenceStatus.CLOSED)
    if dec is not None:
        panel.by_hand = decisions.by_hand_of(session, dec)
    if dec is not None:
        panel.quorum_missing = missing_for_quorum(
            conferences.quorum_rule(conf), dec.outcome,
            users.attendees(session, list(dec.present_user_ids)), chair_id=conf.chair_id)
    return panel


def timeline(entries: list[CareEntry]) -> list[CareEntry]:
    """Oldest first; undated treatments last, in the order they were given."""
    dated = sorted((e for e in entries if e.started_on),
                   key=lambda e: (e.started_on or date.min, e.position))
    return dated + [e for e in entries if not e.started_on]


@dataclass(frozen=True)
class Precedent:
    hit: search.Hit
    scores: list[str]


def outcome_charts(session: Session, case_id: int) -> list[OutcomeChart]:
    """One chart per instrument measured, with the latest decision's date marked."""
    series = stored_outcomes.measured(session, case_id)
    latest = decisions.latest_signed_for_case(session, case_id)
    decided_on = latest.signed_at.date() if latest else None
    charts = []
    for instrument in Instrument:
        rows = [m for m in series if m.row.instrument == instrument.value]
        if rows:
            baseline = rows[0].score - rows[0].change_from_baseline
            charts.append(outcome_chart(instrument, [(m.row.collected_on, m.score) for m in rows],
                                        baseline, decided_on))
    return charts


def _referrer_name(people: dict[int | None, User], case: Case, viewer: User) -> str | None:
    """Whom a patient's questionnaire link can be mailed to, to pass on (not oneself)."""
    referrer = people.get(case.requested_by_id) if case.requested_by_id else None
    if referrer is None or not referrer.active or referrer.id == viewer.id:
        return None
    return referrer.name


def case_context(session: Session, viewer: User, case: Case) -> dict[str, Any]:
    assert viewer.id is not None and case.id is not None
    panels = [p for p in (_panel(session, viewer, i)
                          for i in agenda.items_for_case(session, case.id)) if p]
    people = {u.id: u for u in users.list_users(session)}
    ctx: dict[str, Any] = {
        "case": case, "history": timeline(cases.care_history(session, case.id)),
        "imaging": cases.imaging(session, case.id), "panels": panels, "people": people,
        "outcome_options": OUTCOME_OPTIONS, "guest": None,
        "request_row": referrals.request_for_case(session, case.id),
        "may_add_imaging": can_edit_case(role=viewer.role, user_id=viewer.id,
                                           requested_by_id=case.requested_by_id),
        "imaging_form": Form.of({"modality": "MR"}),
        "care_form": Form.of({"kind": "physical_therapy", "response": "unknown"}),
        "care_kinds": [(k.value, k.value.replace("_", " ").capitalize()) for k in TreatmentKind],
        "care_responses": [(r.value, r.value.capitalize()) for r in TreatmentResponse],
        "urgencies": [(u.value, u.value.capitalize()) for u in Urgency],
        "edit_form": Form.of({"question": case.question, "summary": case.summary,
                              "urgency": case.urgency.value, "eases": case.eases,
                              "worsens": case.worsens}),
    }
    ctx.update(handoffs=care_loop.handoffs(session, viewer=viewer, case_id=case.id),
               today=date.today(),
               similar=[Precedent(hit, latest_scores(session, hit.case_id)) for hit in
                        search.similar(session, viewer=viewer, case_id=case.id)])
    ctx.update(outcome_charts=outcome_charts(session, case.id),
               outcome_form=Form.of({"collected_on": date.today().isoformat()}),
               outcome_link_form=Form(), outcome_link=None,
               referrer_name=_referrer_name(people, case, viewer),
               instruments=[(i.value, outcomes.NAMES[i]) for i in Instrument],
               timepoints=[(t.value, t.value.replace("_", " ").capitalize()) for t in Timepoint])
    ctx.update(thread=threads.thread(session, viewer=viewer, case_id=case.id),
               may_write_thread=cases.on_care_team(session, user=viewer, case=case),
               mention_options=[(u.id, member_label(u)) for u in threads.readers(session, case)
                                if u.id != viewer.id],
               thread_form=Form())
    signed = any(p.revisions for p in panels) or (
        decisions.latest_signed_for_case(session, case.id) is not None)
    ctx["may_correct"] = ctx["may_add_imaging"] and not signed
    if is_organiser(viewer.role):
        ctx["audit"] = audit.events_for(session, entity=Entity.CASE, entity_id=case.id)
    return ctx


def case_page(request: Request, session: Session, viewer: User, case: Case, *,
              status: int = 200, panel_update: dict[int, dict[str, Any]] | None = None,
              **extra: Any) -> Response:
    """Render the case; ``panel_update`` overrides a panel's form or error by item id."""
    ctx = case_context(session, viewer, case)
    for panel in ctx["panels"]:
        for name, value in (panel_update or {}).get(panel.item.id, {}).items():
            setattr(panel, name, value)
    ctx.update(extra)
    return page(request, "pages/case.html", ctx, status)
