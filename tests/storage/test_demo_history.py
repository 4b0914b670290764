"""The demo's past meeting gives the care loop something real to show."""

from datetime import date, timedelta

from sqlmodel import Session, select

from storage import analytics, care_loop, outcomes, search
from storage.demo import load_demo
from storage.demo_history import load_history
from storage.tables import Case, User
from tests.factories import found


def test_the_past_meeting_has_a_story(session: Session) -> None:
    load_demo(session)
    load_history(session)
    session.commit()
    coordinator = found(session.exec(select(User).where(
        User.email == "coordinator@casebridge.example")).first())
    due = care_loop.follow_ups(session, actor=coordinator, due_before=date.today())
    assert len(due) == 2  # the 6-week follow-ups are overdue; the 12-week one is not yet
    stenosis = found(session.exec(select(Case).where(Case.patient_ref == "SPN-2026-0061"))
                     .first())
    assert len(care_loop.handoffs(session, viewer=coordinator, case_id=found(stenosis.id))) == 3
    series = outcomes.measured(session, found(stenosis.id))
    assert series[-1].mcid_reached and series[-1].change_from_baseline < -12.8
    report = analytics.report(session, actor=coordinator,
                              start=date.today() - timedelta(days=90), end=date.today())
    assert report.outcomes == {"surgery_recommended": 1, "pain_management": 1,
                               "physical_therapy": 1}
    assert report.improvement_by_outcome["surgery_recommended"]["share"] == 100.0
    demo_case = found(session.exec(select(Case).where(Case.patient_ref == "SPN-2026-0117"))
                      .first())
    similar = search.similar(session, viewer=coordinator, case_id=found(demo_case.id))
    assert similar and {h.patient_ref for h in similar} <= {
        "SPN-2026-0061", "SPN-2026-0074", "SPN-2026-0083"}
