"""Guest links: how long one lasts, and whether it still opens anything.

A guest link lets an outside clinician see one agenda item's case and join the
live room while that item is current. A link sent a week ahead must still work
on the day, so by default it lasts until the conference has ended (its start
plus its planned duration) and a margin for a meeting that runs over; an
explicit lifetime wins. A coordinator can revoke a link at any time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from conference.errors import Conflict, NotAuthenticated

OVERRUN_MARGIN = timedelta(hours=2)
"""How long after the conference's planned end a link made without a lifetime works."""

MAX_LIFETIME_HOURS = 14 * 24
"""The longest explicit lifetime (a link made two weeks ahead)."""


class LinkState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def expiry(*, starts_at: datetime, duration_minutes: int, now: datetime,
           lifetime: timedelta | None = None) -> datetime:
    """When a link made ``now`` stops working: after ``lifetime`` when one is given,
    else once the conference has ended (plus :data:`OVERRUN_MARGIN`). A conference
    already over gets no link without an explicit lifetime."""
    if lifetime is not None:
        return now + lifetime
    ends = starts_at + timedelta(minutes=duration_minutes) + OVERRUN_MARGIN
    if ends <= now:
        raise Conflict("This conference has ended: give the link a lifetime "
                       "(expires_in_hours) to share the case after it.",
                       code="conference_ended")
    return ends


def state(*, expires_at: datetime, revoked_at: datetime | None, now: datetime) -> LinkState:
    """Whether a link still opens its case and room."""
    if revoked_at is not None:
        return LinkState.REVOKED
    return LinkState.EXPIRED if expires_at <= now else LinkState.ACTIVE


def require_active(*, expires_at: datetime, revoked_at: datetime | None, now: datetime) -> None:
    """Raise :class:`NotAuthenticated` naming why a link no longer works."""
    match state(expires_at=expires_at, revoked_at=revoked_at, now=now):
        case LinkState.REVOKED:
            raise NotAuthenticated("This guest link was withdrawn by the coordinator.")
        case LinkState.EXPIRED:
            raise NotAuthenticated("This guest link has expired.")
