"""What happened, told to a conference's live room: typed events, one JSON form.

Storage records an event with the change that causes it (a decision signed, the
agenda changed); after the commit the web layer publishes it on the room's
channel (in process, or Redis between instances) and the hub that hosts the room
relays it to everyone present. Both ends use these types, so nobody builds or
re-parses the wire dictionaries by hand; :func:`to_payload` and
:func:`from_payload` are the one JSON form (unchanged from the first round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conference.decision_outcomes import Outcome
from conference.errors import InvalidInput


@dataclass(frozen=True)
class DecisionSigned:
    """A decision on ``item_id`` was signed (or amended: a higher ``revision``)."""

    item_id: int
    outcome: Outcome
    revision: int


@dataclass(frozen=True)
class AgendaChanged:
    """Cases were added, reordered, re-timed or deferred: read the agenda again."""


@dataclass(frozen=True)
class AccessRevoked:
    """The person's credentials were revoked (signed out everywhere, a new password,
    deactivated): every room closes their sockets. Published to every room."""

    user_id: int


@dataclass(frozen=True)
class GuestLinkRevoked:
    """A coordinator revoked a guest link: whoever is in the room with it is closed."""

    link_id: int


@dataclass(frozen=True)
class MeetingEnded:
    """The conference was closed (the chair ended the meeting, or its empty room
    closed by itself): everyone in the room is told and disconnected."""


RoomEvent = DecisionSigned | AgendaChanged | AccessRevoked | GuestLinkRevoked | MeetingEnded


def to_payload(event: RoomEvent) -> dict[str, Any]:
    """The event as the JSON object published on the room's channel."""
    if isinstance(event, DecisionSigned):
        return {"type": "decision-signed", "item_id": str(event.item_id),
                "outcome": event.outcome.value, "revision": event.revision}
    if isinstance(event, AccessRevoked):
        return {"type": "access-revoked", "user_id": str(event.user_id)}
    if isinstance(event, GuestLinkRevoked):
        return {"type": "guest-link-revoked", "link_id": str(event.link_id)}
    if isinstance(event, MeetingEnded):
        return {"type": "meeting-ended"}
    return {"type": "agenda-changed"}


def from_payload(payload: Any) -> RoomEvent:
    """The event a channel message carries; :class:`InvalidInput` if it is none."""
    if not isinstance(payload, dict):
        raise InvalidInput("a room event is a JSON object")
    kind = payload.get("type")
    if kind == "agenda-changed":
        return AgendaChanged()
    if kind == "meeting-ended":
        return MeetingEnded()
    if kind == "access-revoked":
        user_id = payload.get("user_id")
        if not isinstance(user_id, str) or not user_id.isdigit():
            raise InvalidInput("an access-revoked event needs a user_id")
        return AccessRevoked(user_id=int(user_id))
    if kind == "guest-link-revoked":
        link_id = payload.get("link_id")
        if not isinstance(link_id, str) or not link_id.isdigit():
            raise InvalidInput("a guest-link-revoked event needs a link_id")
        return GuestLinkRevoked(link_id=int(link_id))
    if kind != "decision-signed":
        raise InvalidInput(f"unknown room event {kind!r}")
    item_id, outcome, revision = (payload.get(k) for k in ("item_id", "outcome", "revision"))
    if not isinstance(item_id, str) or not item_id.isdigit() or not isinstance(revision, int) \
            or isinstance(revision, bool) or revision < 1:
        raise InvalidInput("a decision-signed event needs item_id and revision")
    if outcome not in set(Outcome):
        raise InvalidInput(f"unknown outcome {outcome!r}")
    return DecisionSigned(item_id=int(item_id), outcome=Outcome(str(outcome)), revision=revision)
