from typing import Any

import pytest

from conference.agenda import agenda_time, check_item_minutes, check_reorder
from conference.errors import AgendaMismatch, InvalidInput


def test_agenda_time_fits() -> None:
    t = agenda_time([15, 10, 20], 60)
    assert (t.planned_minutes, t.over_by, t.remaining) == (45, 0, 15)


def test_agenda_time_over() -> None:
    t = agenda_time([30, 30, 15], 60)
    assert (t.over_by, t.remaining) == (15, 0)


@pytest.mark.parametrize("minutes", [0, 121, -5])
def test_item_minutes_rejected(minutes: int) -> None:
    with pytest.raises(InvalidInput):
        check_item_minutes(minutes)


def test_reorder_accepts_permutation() -> None:
    check_reorder([1, 2, 3], [3, 1, 2])


@pytest.mark.parametrize(("new", "details"), [
    ([1, 2], {"missing": [3], "unknown": []}),
    ([1, 2, 3, 4], {"missing": [], "unknown": [4]}),
])
def test_reorder_rejects_other_sets(new: list[int], details: dict[str, Any]) -> None:
    with pytest.raises(AgendaMismatch) as err:
        check_reorder([1, 2, 3], new)
    assert err.value.details == details


def test_reorder_rejects_duplicates() -> None:
    with pytest.raises(AgendaMismatch):
        check_reorder([1, 2], [1, 1, 2])
