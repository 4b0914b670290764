"""Errors of the media-forwarding core (``signaling.forwarding``).

aiortc failures never leave the router raw: ``map_aiortc_errors`` turns them into
one of these, and each carries the CONTRACT ``error`` code the signaling shell
should send, so the lead maps them in one table::

    MediaError                       (abstract: never raised itself)
    ├── InvalidSdp          invalid_sdp     unparseable SDP, no VP8/Opus, m-lines
    │                                       that do not match the offer
    ├── InvalidState        invalid_state   not now: answer without a server offer,
    │   │                                   participant added twice, router closed
    │   └── Glare           invalid_state   client offer while the server's offer is
    │                                       outstanding; the server is the impolite
    │                                       peer, so the offer is ignored
    └── UnknownParticipant  not_found       no such participant in this router
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from aiortc.exceptions import (
    InternalError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)

__all__ = [
    "Glare",
    "InvalidSdp",
    "InvalidState",
    "MediaError",
    "UnknownParticipant",
    "map_aiortc_errors",
]


class MediaError(Exception):
    """Base of every error the media router raises."""

    code: ClassVar[str] = "invalid_state"


class InvalidSdp(MediaError):
    """A session description the server cannot parse or use."""

    code = "invalid_sdp"


class InvalidState(MediaError):
    """The call does not fit the participant's negotiation state."""

    code = "invalid_state"


class Glare(InvalidState):
    """A client offer crossed the server's outstanding offer and was ignored.

    The client rolls back its offer, answers the server's, then offers again
    (CONTRACT "Media"; the W3C "perfect negotiation" pattern, with the rollback
    of RFC 8829 (JSEP) on the client side).
    """


class UnknownParticipant(MediaError):
    """No participant with this id was added to the router."""

    code = "not_found"


@contextmanager
def map_aiortc_errors() -> Iterator[None]:
    """Translate aiortc's exceptions into the tree above (the one mapping).

    aiortc raises ``ValueError`` and its own ``OperationError`` /
    ``InvalidAccessError`` / ``InternalError`` for descriptions it cannot apply,
    and ``InvalidStateError`` when the signaling state forbids the step.
    """
    try:
        yield
    except InvalidStateError as exc:
        raise InvalidState(str(exc) or "invalid signaling state") from exc
    except (ValueError, LookupError, OperationError, InvalidAccessError, InternalError) as exc:
        raise InvalidSdp(str(exc) or "invalid session description") from exc
