"""The demo's past: a meeting held eight weeks ago whose decisions have a story since
(outcome scores, an overdue follow-up, post-operative tasks), so that the charts, the
similar cases, the follow-up list and the analytics show something real on
``casebridge serve --demo``. Loaded after :func:`storage.demo.load_demo`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from conference.cases import CareEntry, CaseDetails, Sex, TreatmentKind, TreatmentResponse
from conference.conferences import ConferenceStatus
from conference.decision import DecisionContent
from conference.decision_outcomes import Outcome
from conference.people import ConferenceRole
from storage import agenda, cases, conferences, decisions, outcomes
from storage.clock import utcnow
from storage.tables import User

K, R = TreatmentKind, TreatmentResponse

# (details, outcome, follow-up weeks, ODI series: days after the meeting -> score)
PAST = [
    (CaseDetails(
        patient_ref="SPN-2026-0061", age=67, sex=Sex.FEMALE,
        summary="Lumbar stenosis at L4-5 with neurogenic claudication; walking limited to "
                "200 metres despite physical therapy and two epidural steroid injections.",
        question="Decompression at L4-5, or continue conservative care?",
        care_history=(CareEntry(K.PHYSICAL_THERAPY, "Flexion-based programme, 12 sessions",
                                None, None, R.UNCHANGED),
                      CareEntry(K.INJECTION, "L4-5 interlaminar epidural steroid injection",
                                None, None, R.IMPROVED, "Three weeks of relief"))),
     Outcome.SURGERY_RECOMMENDED, 12, {-14: 52, 30: 34, 55: 24}),
    (CaseDetails(
        patient_ref="SPN-2026-0074", age=44, sex=Sex.MALE,
        summary="Chronic axial low back pain for two years, facet-mediated on examination; "
                "no radicular signs. Physical therapy helped partly.",
        question="Medial branch blocks and radiofrequency ablation, or a further PT block?",
        care_history=(CareEntry(K.PHYSICAL_THERAPY, "Core stabilisation, 16 sessions",
                                None, None, R.IMPROVED),)),
     Outcome.PAIN_MANAGEMENT, 6, {-10: 38, 40: 33}),
    (CaseDetails(
        patient_ref="SPN-2026-0083", age=58, sex=Sex.FEMALE,
        summary="Mechanical low back pain with lumbar stenosis at L3-4, mild; range of "
                "motion plateaued after eight weeks of physical therapy.",
        question="Pain management referral, or a modified physical therapy programme?",
        care_history=(CareEntry(K.PHYSICAL_THERAPY, "McKenzie programme, 10 sessions",
                                None, None, R.UNCHANGED),)),
     Outcome.PHYSICAL_THERAPY, 6, {-7: 30, 42: 28}),
]


def _person(session: Session, local: str) -> User:
    user = session.exec(select(User).where(User.email.startswith(f"{local}@"))).first()
    assert user is not None, local
    return user


def load_history(session: Session, *, now: datetime | None = None) -> None:
    """Add the past meeting (the demo's people must be loaded)."""
    at = now or utcnow()
    coord, chair = _person(session, "coordinator"), _person(session, "okafor")
    panel = [chair, _person(session, "brooks"), _person(session, "raman"),
             _person(session, "lee")]
    held = at - timedelta(weeks=8)
    conf = conferences.create_conference(
        session, actor=coord, title="Spine conference (eight weeks ago)", starts_at=held,
        duration_minutes=60, chair_id=chair.id or 0, now=held - timedelta(days=7))
    assert conf.id is not None
    for person in panel[1:]:
        conferences.add_member(session, actor=coord, conference_id=conf.id,
                               user_id=person.id or 0, conference_role=ConferenceRole.MEMBER,
                               now=held - timedelta(days=7))
    conferences.set_status(session, actor=coord, conference_id=conf.id,
                           status=ConferenceStatus.PUBLISHED, now=held - timedelta(days=6))
    ids = [p.id or 0 for p in panel]
    for n, (details, outcome, weeks, series) in enumerate(PAST):
        case = cases.create_case(session, actor=coord, details=details,
                                 now=held - timedelta(days=10))
        item = agenda.add_item(session, actor=coord, conference_id=conf.id,
                               case_id=case.id or 0, planned_minutes=15,
                               now=held - timedelta(days=6))
        when = held + timedelta(minutes=5 + 18 * n)
        agenda.advance(session, actor=chair, conference_id=conf.id, item_id=item.id or 0,
                       now=when)
        agenda.record_attendance(session, item_id=item.id or 0, user_ids=ids, now=when)
        decisions.save_draft(session, actor=chair, item_id=item.id or 0, read_version=0,
                             now=when, content=DecisionContent(
                                 outcome=outcome, rationale=f"The panel reviewed the "
                                 f"history: {details.question.lower()}",
                                 plan="As recorded in the meeting.", follow_up_weeks=weeks,
                                 present_user_ids=tuple(ids),
                                 responsible_clinician_id=chair.id))
        decisions.sign(session, actor=chair, item_id=item.id or 0,
                       now=when + timedelta(minutes=12))
        for days, score in series.items():
            outcomes.record(session, actor=coord, case_id=case.id or 0, instrument="odi",
                            collected_on=(held + timedelta(days=days)).date(), total=score,
                            timepoint="baseline" if days < 0 else None, now=at)
    conferences.set_status(session, actor=chair, conference_id=conf.id,
                           status=ConferenceStatus.CLOSED, now=held + timedelta(minutes=70))

