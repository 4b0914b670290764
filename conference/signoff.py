"""Sign-off backed by the meeting: a decision is signed only once the conference has
started, with who was present taken from the room's attendance; anyone the chair adds
by hand is recorded as such and counts only with a reason. When a conference may go
live, and when an empty one closes by itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from conference.conferences import ConferenceStatus
from conference.errors import Conflict

LIVE_WINDOW = timedelta(minutes=60)  # going live is possible this long before the start
AUTO_CLOSE_GRACE = timedelta(minutes=15)  # an empty room past its end closes after this


def require_meeting_started(status: ConferenceStatus, what: str = "sign") -> None:
    """Signing and amending need a conference that is live or has been held."""
    if status not in (ConferenceStatus.LIVE, ConferenceStatus.CLOSED):
        raise Conflict(f"The meeting has not started: a decision can be {what}ed once the "
                       "conference is live (the panel decides in the meeting).",
                       code="conference_not_started")


def present_by_hand(present: Collection[int], recorded: Collection[int]) -> list[int]:
    """Who the decision names as present but the room did not record."""
    return sorted(set(present) - set(recorded))


def require_attendance_note(by_hand: Collection[int], note: str | None) -> None:
    """People added by hand count only with a reason (they joined by phone, the room
    failed them, ...); signing without one is refused."""
    if by_hand and not (note or "").strip():
        raise Conflict("Some people marked present were not recorded in the room: say why "
                       "in the attendance note (for example, they joined by telephone) or "
                       "untick them.", code="attendance_note_required")


def require_live_window(starts_at: datetime, now: datetime,
                        window: timedelta = LIVE_WINDOW) -> None:
    """A conference goes live from ``window`` before its start, not a week early."""
    opens = starts_at - window
    if now < opens:
        minutes = int(window.total_seconds() // 60)
        raise Conflict(f"Too early to go live: the room opens {minutes} minutes before "
                       f"the start ({opens:%Y-%m-%d %H:%M} UTC).", code="too_early_to_go_live")


def should_close(*, starts_at: datetime, duration_minutes: int, now: datetime,
                 occupied: bool, grace: timedelta = AUTO_CLOSE_GRACE) -> bool:
    """A live conference closes by itself once its room is empty past its planned
    end (plus ``grace``)."""
    return not occupied and now >= starts_at + timedelta(minutes=duration_minutes) + grace
