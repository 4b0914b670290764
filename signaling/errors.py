"""The one error tree of the signaling layer, each class with its CONTRACT code.

Every class has a ``code`` from the CONTRACT "Signaling" list, so the WebSocket
shell turns any of them (and the domain's refusals) into one ``error`` message
with ``signaling.protocol.error_message``, the one mapping, and the connection
lives on. The room, the protocol and the media router all raise from here::

    SignalingError                      (abstract: never raised itself)
    ├── ProtocolError                   the frame could not become a ClientMessage
    │   ├── BadJson                     bad_json         not JSON text
    │   ├── UnknownType                 unknown_type     "type" names no message
    │   ├── InvalidMessage              invalid_message  not an object, missing or
    │   │                                                wrong fields
    │   └── TooLarge                    too_large        frame over MAX_FRAME_BYTES
    ├── InvalidSdp                      invalid_sdp      SDP the media router cannot
    │                                                    parse or use (no VP8/Opus,
    │                                                    m-lines unlike the offer)
    ├── RateLimited                     rate_limited     connection over its budget
    └── RoomError                       a well-formed message refused now
        ├── Forbidden                   forbidden        role may not do this
        ├── NotFound                    not_found        no such participant / item
        │   └── UnknownParticipant      not_found        not in the media router
        └── InvalidState                invalid_state    not now (join twice, media
            │                                            before join, an answer
            │                                            without a server offer)
            └── Glare                   invalid_state    a client offer crossed the
                                                         server's; it is ignored

    BackplaneUnavailable                no wire code: the event bus or the ownership
                                        store (Redis) failed; the shell logs it and
                                        closes the socket with 1011
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorCode = Literal[
    "bad_json",
    "unknown_type",
    "invalid_message",
    "invalid_sdp",
    "forbidden",
    "not_found",
    "invalid_state",
    "too_large",
    "rate_limited",
    "room_full",  # added (second round): sent before close code 4429
]

__all__ = [
    "BackplaneUnavailable",
    "BadJson",
    "RoomFull",
    "ErrorCode",
    "Forbidden",
    "Glare",
    "InvalidMessage",
    "InvalidSdp",
    "InvalidState",
    "NotFound",
    "ProtocolError",
    "RateLimited",
    "RoomError",
    "SignalingError",
    "TooLarge",
    "UnknownParticipant",
    "UnknownType",
]


class SignalingError(Exception):
    """Base of the tree; ``str(error)`` is the human-readable ``message``."""

    code: ClassVar[ErrorCode]


class ProtocolError(SignalingError):
    """A text frame that does not decode to a valid client message."""


class BadJson(ProtocolError):
    code = "bad_json"


class UnknownType(ProtocolError):
    code = "unknown_type"


class InvalidMessage(ProtocolError):
    code = "invalid_message"


class TooLarge(ProtocolError):
    code = "too_large"


class InvalidSdp(SignalingError):
    """A session description the server cannot parse or use."""

    code = "invalid_sdp"


class RateLimited(SignalingError):
    code = "rate_limited"


class RoomError(SignalingError):
    """A well-formed message the room's rules refuse."""


class Forbidden(RoomError):
    code = "forbidden"


class NotFound(RoomError):
    code = "not_found"


class UnknownParticipant(NotFound):
    """No participant with this id was added to the media router."""


class RoomFull(RoomError):
    code = "room_full"


class InvalidState(RoomError):
    code = "invalid_state"


class Glare(InvalidState):
    """A client offer crossed the server's outstanding offer and was ignored.

    The client rolls back its offer, answers the server's, then offers again
    (CONTRACT "Media"; the W3C "perfect negotiation" pattern, with the rollback
    of RFC 8829 (JSEP) on the client side).
    """


class BackplaneUnavailable(Exception):
    """The shared event bus or room-ownership store failed (e.g. Redis down)."""
