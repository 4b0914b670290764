"""Charts drawn on the server as SVG (no script, nothing from elsewhere: CSP-clean,
readable in print). Geometry here; the markup in ``pages/_outcome_chart.html``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from conference import outcomes
from conference.outcomes import Instrument

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 34


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class OutcomeChart:
    """One instrument over time: its points, the baseline, the band where the change
    becomes clinically important, and the decision's date."""

    instrument: Instrument
    title: str
    top: int
    points: list[Point]
    ticks_y: list[tuple[float, str]]
    ticks_x: list[tuple[float, str]]
    baseline_y: float
    band: tuple[float, float]  # y from, y to: at or past the clinically important change
    decision_x: float | None
    latest: str
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def outcome_chart(instrument: Instrument, measures: list[tuple[date, Decimal]],
                  baseline: Decimal, decided_on: date | None) -> OutcomeChart:
    top = 100 if instrument in outcomes.INDEXES else outcomes.MAX_NRS
    first = min([d for d, _ in measures] + ([decided_on] if decided_on else []))
    last = max([d for d, _ in measures] + ([decided_on] if decided_on else []))
    span = max((last - first).days, 30)
    start = first - timedelta(days=span // 20 + 1)
    days = span + 2 * (span // 20 + 1)

    def x(day: date) -> float:
        return round(LEFT + (day - start).days / days * (WIDTH - LEFT - RIGHT), 1)

    def y(value: Decimal | float) -> float:
        return round(TOP + (1 - float(value) / top) * (HEIGHT - TOP - BOTTOM), 1)

    mcid = outcomes.MCID[instrument]
    target = max(Decimal(0), baseline - mcid)
    step = 20 if top == 100 else 2
    points = [Point(x(d), y(v), f"{v} on {d:%d %b %Y}") for d, v in measures]
    latest_day, latest_value = measures[-1]
    moved = latest_value - baseline
    reached = -moved >= mcid
    return OutcomeChart(
        instrument=instrument, title=outcomes.NAMES[instrument], top=top, points=points,
        ticks_y=[(y(v), str(v)) for v in range(0, top + 1, step)],
        ticks_x=[(x(d), f"{d:%b %Y}") for d in _months(start, start + timedelta(days=days))],
        baseline_y=y(baseline), band=(y(target), y(0)),
        decision_x=x(decided_on) if decided_on else None,
        latest=f"{latest_value}",
        summary=(f"Latest {latest_value} ({latest_day:%d %b %Y}), "
                 f"{'down' if moved < 0 else 'up'} {abs(moved)} from baseline {baseline}: "
                 + ("a clinically important improvement." if reached
                    else f"not yet the {mcid}-point change that counts as important.")))


def _months(start: date, end: date) -> list[date]:
    """First days of the months between ``start`` and ``end``, at most six of them."""
    out = []
    day = date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            out.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    every = max(1, len(out) // 6 + (len(out) % 6 > 0))
    return out[::every]


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series
    texts: tuple[str, ...]
    widths: tuple[float, ...]
    y: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one row per label, one bar per series (e.g. planned, actual)."""

    title: str
    series: tuple[str, ...]
    bars: list[Bar]
    height: int
    width: int = 420
    label_width: int = 150
    row: int = 26


def bar_chart(title: str, rows: list[tuple[str, tuple[float, ...]]],
              series: tuple[str, ...] = ("",), unit: str = "") -> BarChart:
    top = max([v for _, values in rows for v in values] + [1])
    row_height = 10 + 14 * len(series)
    span = 420 - 150 - 60
    bars = [Bar(label, values, tuple(f"{v:g}{unit}" for v in values),
                tuple(round(span * v / top, 1) for v in values), 8 + n * row_height)
            for n, (label, values) in enumerate(rows)]
    return BarChart(title, series, bars, height=16 + row_height * max(len(rows), 1),
                    row=row_height)
