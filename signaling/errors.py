"""Errors of the signaling layer, each carrying the CONTRACT ``error`` code.

Every class has a ``code`` from the CONTRACT "Signaling" list, so the WebSocket
shell turns any of them into one ``error`` message (see
``signaling.protocol.error_message``) and the connection lives on::

    SignalingError                      (abstract: never raised itself)
    ├── ProtocolError                   the frame could not become a ClientMessage
    │   ├── BadJson                     bad_json         not JSON text
    │   ├── UnknownType                 unknown_type     "type" names no message
    │   ├── InvalidMessage              invalid_message  not an object, missing or
    │   │                                                wrong fields
    │   └── TooLarge                    too_large        frame over MAX_FRAME_BYTES
    ├── InvalidSdp                      invalid_sdp      for the media shell (aiortc)
    ├── RateLimited                     rate_limited     connection over its budget
    └── RoomError                       a legal message the room refuses
        ├── Forbidden                   forbidden        role may not do this
        ├── NotFound                    not_found        no such participant / item
        └── InvalidState                invalid_state    not now (join twice, media
                                                         before join, admit a member)

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
]

__all__ = [
    "BackplaneUnavailable",
    "BadJson",
    "ErrorCode",
    "Forbidden",
    "InvalidMessage",
    "InvalidSdp",
    "InvalidState",
    "NotFound",
    "ProtocolError",
    "RateLimited",
    "RoomError",
    "SignalingError",
    "TooLarge",
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
    code = "invalid_sdp"


class RateLimited(SignalingError):
    code = "rate_limited"


class RoomError(SignalingError):
    """A well-formed message the room's rules refuse."""


class Forbidden(RoomError):
    code = "forbidden"


class NotFound(RoomError):
    code = "not_found"


class InvalidState(RoomError):
    code = "invalid_state"


class BackplaneUnavailable(Exception):
    """The shared event bus or room-ownership store failed (e.g. Redis down)."""
