"""The agenda: the ordered cases of one conference, with the minutes planned for each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from conference.errors import AgendaMismatch, InvalidInput
from conference.states import require_transition


class ItemStatus(StrEnum):
    """Where an agenda item is in the meeting."""

    PENDING = "pending"
    DISCUSSING = "discussing"
    DECIDED = "decided"
    DEFERRED = "deferred"


# pending -> discussing -> decided | deferred. A case can be deferred before it
# is reached (the meeting ran out of time) and a deferred case can be taken up
# again later in the same meeting.
ITEM_TRANSITIONS = {
    ItemStatus.PENDING: frozenset({ItemStatus.DISCUSSING, ItemStatus.DEFERRED}),
    ItemStatus.DISCUSSING: frozenset({ItemStatus.DECIDED, ItemStatus.DEFERRED}),
    ItemStatus.DEFERRED: frozenset({ItemStatus.DISCUSSING}),
    ItemStatus.DECIDED: frozenset[ItemStatus](),
}

MIN_ITEM_MINUTES = 1
MAX_ITEM_MINUTES = 120


@dataclass(frozen=True)
class AgendaTime:
    """The running total of planned minutes against the meeting's length."""

    planned_minutes: int
    duration_minutes: int

    @property
    def over_by(self) -> int:
        """Minutes past the meeting's end; 0 when the agenda fits."""
        return max(0, self.planned_minutes - self.duration_minutes)

    @property
    def remaining(self) -> int:
        return max(0, self.duration_minutes - self.planned_minutes)


def check_item_minutes(minutes: int) -> None:
    """A case gets between 1 and 120 minutes of the meeting."""
    if not MIN_ITEM_MINUTES <= minutes <= MAX_ITEM_MINUTES:
        raise InvalidInput(
            f"A case gets {MIN_ITEM_MINUTES} to {MAX_ITEM_MINUTES} minutes.",
            field="planned_minutes",
        )


def agenda_time(planned: Sequence[int], duration_minutes: int) -> AgendaTime:
    """Sum the planned minutes of the items and compare with the meeting length."""
    return AgendaTime(sum(planned), duration_minutes)


def check_reorder(current_ids: Sequence[int], new_ids: Sequence[int]) -> None:
    """A new order must name exactly the current items, each once."""
    if len(set(new_ids)) != len(new_ids):
        raise AgendaMismatch("The new order names an item more than once.",
                             details={"item_ids": list(new_ids)})
    if set(new_ids) != set(current_ids):
        missing = sorted(set(current_ids) - set(new_ids))
        unknown = sorted(set(new_ids) - set(current_ids))
        raise AgendaMismatch(
            "The new order must list exactly the agenda's current items "
            "(someone may have changed the agenda; reload it).",
            details={"missing": missing, "unknown": unknown},
        )


def move_item(current: ItemStatus, target: ItemStatus) -> ItemStatus:
    """Return ``target`` if an agenda item may move there from ``current``."""
    require_transition("agenda item", ITEM_TRANSITIONS, current, target)
    return target
