"""``/analytics``: how the meetings ran and how their patients have done."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.responses import Response
from starlette.routing import Route

from conference.errors import InvalidInput
from conference.permissions import require_organiser
from storage import analytics
from web.charts import bar_chart
from web.pages.action import Visit, view
from web.pages.common import page


def _day(raw: str | None, default: date, field: str) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Give dates as YYYY-MM-DD.", field=field) from None


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


@view
def analytics_page(visit: Visit) -> Response:
    require_organiser(visit.user.role, "see the analytics")
    today = date.today()
    params = visit.request.query_params
    start = _day(params.get("from"), today - timedelta(days=365), "from")
    end = _day(params.get("to"), today, "to")
    report = analytics.report(visit.session, actor=visit.user, start=start, end=end)
    charts = [
        bar_chart("Minutes per meeting: planned and actual",
                  [(f"{m.starts_at:%d %b} {m.title}",
                    (float(m.planned_minutes), float(m.actual_minutes)))
                   for m in report.per_meeting], series=("planned", "actual"), unit=" min"),
        bar_chart("Decisions by outcome", [(_label(o), (float(n),))
                                           for o, n in sorted(report.outcomes.items())]),
        bar_chart("Attendance by specialty (people x cases)",
                  [(_label(s), (float(n),)) for s, n in
                   sorted(report.attendance_by_specialty.items())]),
        bar_chart("Patients with a clinically important improvement since, by outcome",
                  [(_label(o), (float(v["share"] or 0),)) for o, v in
                   report.improvement_by_outcome.items()], unit=" %"),
    ]
    return page(visit.request, "pages/analytics.html",
                {"report": report, "charts": charts, "start": start, "end": end})


routes = [Route("/analytics", analytics_page)]
