"""How long a guest link lasts, and whether it still opens anything (issue 9 item 3)."""

from datetime import UTC, datetime, timedelta

import pytest

from conference.errors import Conflict, NotAuthenticated
from conference.guest_links import (
    OVERRUN_MARGIN,
    LinkState,
    expiry,
    require_active,
    state,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NEXT_WEEK = NOW + timedelta(days=7)


def test_guest_link_made_a_week_ahead_lasts_until_the_meeting_is_over() -> None:
    ends = expiry(starts_at=NEXT_WEEK, duration_minutes=90, now=NOW)
    assert ends == NEXT_WEEK + timedelta(minutes=90) + OVERRUN_MARGIN
    assert state(expires_at=ends, revoked_at=None, now=NEXT_WEEK + timedelta(minutes=89)) \
        is LinkState.ACTIVE


def test_guest_link_explicit_lifetime_wins() -> None:
    assert expiry(starts_at=NEXT_WEEK, duration_minutes=90, now=NOW,
                  lifetime=timedelta(hours=4)) == NOW + timedelta(hours=4)


def test_guest_link_for_a_meeting_already_over_needs_a_lifetime() -> None:
    long_ago = NOW - timedelta(days=2)
    with pytest.raises(Conflict) as refused:
        expiry(starts_at=long_ago, duration_minutes=60, now=NOW)
    assert refused.value.code == "conference_ended"
    assert expiry(starts_at=long_ago, duration_minutes=60, now=NOW,
                  lifetime=timedelta(hours=1)) == NOW + timedelta(hours=1)


@pytest.mark.parametrize(("expires_at", "revoked_at", "expected", "says"), [
    (NOW + timedelta(seconds=1), None, LinkState.ACTIVE, None),
    (NOW, None, LinkState.EXPIRED, "expired"),
    (NOW + timedelta(days=1), NOW - timedelta(minutes=1), LinkState.REVOKED, "withdrawn"),
    (NOW - timedelta(days=1), NOW - timedelta(days=2), LinkState.REVOKED, "withdrawn"),
])
def test_guest_link_state(expires_at: datetime, revoked_at: datetime | None,
                          expected: LinkState, says: str | None) -> None:
    assert state(expires_at=expires_at, revoked_at=revoked_at, now=NOW) is expected
    if says is None:
        require_active(expires_at=expires_at, revoked_at=revoked_at, now=NOW)
    else:
        with pytest.raises(NotAuthenticated, match=says):
            require_active(expires_at=expires_at, revoked_at=revoked_at, now=NOW)
