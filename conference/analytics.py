"""Meeting analytics: the arithmetic, apart from where the numbers come from."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) by linear interpolation between the closest
    ranks (the "exclusive of nothing" method spreadsheets call PERCENTILE.INC);
    None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 1)


def minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole minutes an item was discussed (rounded), or None if not both known."""
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds() / 60)


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a percentage to one decimal; None of nothing."""
    return round(100 * part / whole, 1) if whole else None
