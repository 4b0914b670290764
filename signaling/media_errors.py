"""aiortc's exceptions, translated into the signaling error tree.

aiortc failures never leave the media router raw: ``map_aiortc_errors`` turns
them into :class:`InvalidSdp` or :class:`InvalidState` of ``signaling.errors``
(the one tree). The router's own :class:`Glare` and :class:`UnknownParticipant`
are re-exported here only so existing imports keep working; new code imports
every error from ``signaling.errors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiortc.exceptions import (
    InternalError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)

from signaling.errors import Glare, InvalidSdp, InvalidState, UnknownParticipant

__all__ = ["Glare", "InvalidSdp", "InvalidState", "UnknownParticipant", "map_aiortc_errors"]


@contextmanager
def map_aiortc_errors() -> Iterator[None]:
    """Translate aiortc's exceptions into the signaling tree.

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
