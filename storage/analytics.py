"""Meeting analytics for coordinators: how the meetings ran and how patients did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from conference.agenda import ItemStatus
from conference.analytics import minutes_between, percentile, share
from conference.errors import InvalidInput
from conference.permissions import require_organiser
from storage import outcomes
from storage.tables import (
    AgendaItem,
    Attendance,
    Conference,
    DecisionRevision,
    SecondOpinionRequest,
    User,
)

MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class MeetingMinutes:
    conference_id: int
    title: str
    starts_at: datetime
    planned_minutes: int
    actual_minutes: int


@dataclass
class Report:
    start: date
    end: date
    conferences: int = 0
    cases_discussed: int = 0
    deferred: int = 0
    planned_minutes: int = 0
    actual_minutes: int = 0
    per_case: list[dict[str, int | None]] = field(default_factory=list)
    per_meeting: list[MeetingMinutes] = field(default_factory=list)
    turnaround_median: float | None = None
    turnaround_p90: float | None = None
    attendance_by_specialty: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    improvement_by_outcome: dict[str, dict[str, float | int | None]] = field(
        default_factory=dict)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise InvalidInput("The end date comes before the start.", field="to")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("Analytics cover at most three years at a time.", field="to")
    return (datetime.combine(start, time.min, UTC),
            datetime.combine(end + timedelta(days=1), time.min, UTC))


def report(session: Session, *, actor: User, start: date, end: date) -> Report:
    """Everything between ``start`` and ``end`` (inclusive), by meeting date."""
    require_organiser(actor.role, "see the analytics")
    low, high = _bounds(start, end)
    out = Report(start, end)
    confs = list(session.exec(select(Conference).where(
        col(Conference.starts_at) >= low, col(Conference.starts_at) < high,
        col(Conference.cancelled_at).is_(None))))
    out.conferences = len(confs)
    ids = [c.id for c in confs]
    # Columns, not ORM rows: a year holds thousands of items, decisions and measures.
    items = session.execute(sa_select(
        col(AgendaItem.id), col(AgendaItem.conference_id), col(AgendaItem.status),
        col(AgendaItem.planned_minutes), col(AgendaItem.started_at),
        col(AgendaItem.ended_at)).where(
        col(AgendaItem.conference_id).in_(ids)).order_by(
        col(AgendaItem.conference_id), col(AgendaItem.position))).all() if ids else []
    by_conf: dict[int, list[Any]] = {}
    for item in items:
        by_conf.setdefault(item.conference_id, []).append(item)
        if item.status is ItemStatus.DEFERRED:
            out.deferred += 1
        if item.status in (ItemStatus.DECIDED, ItemStatus.DEFERRED):
            out.cases_discussed += 1
        actual = minutes_between(item.started_at, item.ended_at)
        if item.status is not ItemStatus.PENDING:
            out.planned_minutes += item.planned_minutes
            out.actual_minutes += actual or 0
            out.per_case.append({"item_id": item.id, "planned_minutes": item.planned_minutes,
                                 "actual_minutes": actual})
    for conf in confs:
        held = [i for i in by_conf.get(conf.id or 0, []) if i.status is not ItemStatus.PENDING]
        out.per_meeting.append(MeetingMinutes(
            conf.id or 0, conf.title, conf.starts_at, sum(i.planned_minutes for i in held),
            sum(minutes_between(i.started_at, i.ended_at) or 0 for i in held)))
    # Requests answered in the period: submitted to the signed letter.
    hours = [(r.answered_at - r.submitted_at).total_seconds() / 3600
             for r in session.exec(select(SecondOpinionRequest).where(
                 col(SecondOpinionRequest.answered_at) >= low,
                 col(SecondOpinionRequest.answered_at) < high))
             if r.answered_at is not None]
    out.turnaround_median, out.turnaround_p90 = percentile(hours, 50), percentile(hours, 90)
    if ids:
        rows = session.execute(select(User.specialty, User.role, func.count()).join(
            Attendance, col(Attendance.user_id) == col(User.id)).join(
            AgendaItem, col(AgendaItem.id) == col(Attendance.agenda_item_id)).where(
            col(AgendaItem.conference_id).in_(ids)).group_by(User.specialty, User.role))
        counted: Counter[str] = Counter()
        for specialty, role, n in rows:
            counted[str(getattr(specialty or role, "value", specialty or role))] += n
        out.attendance_by_specialty = dict(counted)
    in_period = (DecisionRevision.revision == 1, col(DecisionRevision.signed_at) >= low,
                 col(DecisionRevision.signed_at) < high)
    signed = session.execute(select(DecisionRevision.case_id, DecisionRevision.outcome,
                                    DecisionRevision.signed_at).where(*in_period)).all()
    out.outcomes = dict(Counter(d.outcome.value for d in signed))
    # Of the patients decided in the period, how many have reached a clinically
    # important improvement on any measure since, by what was decided.
    patients: dict[str, set[int]] = {}
    improved: dict[str, set[int]] = {}
    decided_on: dict[int, date] = {}
    for decision in signed:
        patients.setdefault(decision.outcome.value, set()).add(decision.case_id)
        day = decision.signed_at.date()
        decided_on[decision.case_id] = min(day, decided_on.get(decision.case_id, day))
    better = outcomes.improved_since(
        session, decided_on, select(DecisionRevision.case_id).where(*in_period))
    for decision in signed:
        if decision.case_id in better:
            improved.setdefault(decision.outcome.value, set()).add(decision.case_id)
    out.improvement_by_outcome = {
        outcome: {"patients": len(cases), "improved": len(improved.get(outcome, set())),
                  "share": share(len(improved.get(outcome, set())), len(cases))}
        for outcome, cases in sorted(patients.items())}
    return out
