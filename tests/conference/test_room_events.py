"""Room events: the typed form both storage and the hub use, and its one JSON form."""

import pytest

from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput
from conference.room_events import (
    AccessRevoked,
    AgendaChanged,
    DecisionSigned,
    GuestLinkRevoked,
    from_payload,
    to_payload,
)


def test_room_events_round_trip_in_the_first_rounds_json() -> None:
    signed = DecisionSigned(item_id=7, outcome=Outcome.PAIN_MANAGEMENT, revision=2)
    assert to_payload(signed) == {"type": "decision-signed", "item_id": "7",
                                  "outcome": "pain_management", "revision": 2}
    assert from_payload(to_payload(signed)) == signed
    assert from_payload(to_payload(AgendaChanged())) == AgendaChanged()
    revoked = AccessRevoked(user_id=5)
    assert to_payload(revoked) == {"type": "access-revoked", "user_id": "5"}
    assert from_payload(to_payload(revoked)) == revoked
    link = GuestLinkRevoked(link_id=12)
    assert to_payload(link) == {"type": "guest-link-revoked", "link_id": "12"}
    assert from_payload(to_payload(link)) == link


@pytest.mark.parametrize("payload", [
    None, [], {}, {"type": "teleport"},
    {"type": "decision-signed", "item_id": 7, "outcome": "surgery", "revision": 1},
    {"type": "decision-signed", "item_id": "7", "outcome": "not an outcome", "revision": 1},
    {"type": "decision-signed", "item_id": "7", "outcome": "pain_management", "revision": 0},
    {"type": "decision-signed", "item_id": "7", "outcome": "pain_management",
     "revision": True},
    {"type": "access-revoked"}, {"type": "access-revoked", "user_id": 5},
    {"type": "access-revoked", "user_id": "someone"},
    {"type": "guest-link-revoked"}, {"type": "guest-link-revoked", "link_id": 12},
])
def test_room_events_refuse_what_is_not_one(payload: object) -> None:
    with pytest.raises(InvalidInput):
        from_payload(payload)
