"""How a case has done since its decision, in words (the room, the case page, the API)."""

from __future__ import annotations

from sqlmodel import Session

from conference.outcomes import NAMES, Instrument
from storage import outcomes


def latest_scores(session: Session, case_id: int) -> list[str]:
    """The latest of each outcome measure against its baseline, e.g. "Oswestry
    Disability Index: 30.0 (-18.0 since baseline, clinically important)"."""
    latest: dict[str, outcomes.Measured] = {}
    for measure in outcomes.measured(session, case_id):
        latest[measure.row.instrument] = measure
    return [f"{NAMES[Instrument(m.row.instrument)]}: {m.score}"
            + (f" ({m.change_from_baseline:+} since baseline"
               + (", clinically important" if m.mcid_reached else "") + ")"
               if m.change_from_baseline else " (baseline)")
            for m in latest.values()]
