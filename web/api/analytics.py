"""Meeting analytics for coordinators and admins."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from storage import analytics
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import AnalyticsQuery, Empty
from web.api.views import AnalyticsView, MinutesView, TurnaroundView


def view(report: analytics.Report) -> AnalyticsView:
    meetings: list[dict[str, Any]] = [
        {**asdict(m), "starts_at": m.starts_at.isoformat()} for m in report.per_meeting]
    return AnalyticsView(
        conferences=report.conferences, cases_discussed=report.cases_discussed,
        deferred=report.deferred,
        minutes=MinutesView(planned=report.planned_minutes, actual=report.actual_minutes),
        per_case=report.per_case, per_meeting=meetings,
        turnaround_hours=TurnaroundView(median=report.turnaround_median,
                                        p90=report.turnaround_p90),
        attendance_by_specialty=report.attendance_by_specialty, outcomes=report.outcomes,
        improvement_by_outcome=report.improvement_by_outcome)


def get_analytics(call: Call[Empty]) -> AnalyticsView:
    query = read_query(call.request.query_params, AnalyticsQuery)
    return view(analytics.report(call.session, actor=call.user, start=query.start,
                                 end=query.end))


routes = [
    operation("GET", "/analytics", get_analytics, body=Empty, query=AnalyticsQuery,
              tag="analytics", response=AnalyticsView,
              summary="Meetings, minutes, turnaround, attendance and outcomes between two "
                      "dates (coordinators and admins)"),
]
