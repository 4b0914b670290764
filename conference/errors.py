"""The one exception tree of Casebridge's domain.

Every rule in ``conference/`` that refuses something raises one of these; ``web/``
turns them into HTTP error bodies in one table and ``signaling/`` into ``error``
messages, so nothing here knows about HTTP or WebSockets::

    CasebridgeError
    ├── InvalidInput                 a value breaks a rule (422)
    │   ├── ImagingLinkRejected      an imaging URL is unsafe or not allowed
    │   └── InvalidInputs            several values break rules at once (see gather)
    ├── NotAuthenticated             nobody is signed in (401)
    ├── PermissionDenied             signed in, but not allowed (403)
    ├── TooManyRequests              too many tries; wait ``retry_after`` seconds (429)
    ├── NotFound                     no such thing, or not visible to you (404)
    └── Conflict                     the request clashes with the current state (409)
        ├── IllegalTransition        a state machine refuses the move
        ├── StaleVersion             saved over a version someone else changed
        ├── SignedDecisionImmutable  a signed decision is never edited
        ├── QuorumNotMet             sign-off without the roles the rule needs
        └── AgendaMismatch           a reorder that is not exactly the current items

Each error has a snake_case ``code`` (the API's ``error.code``), a human
``message`` and optional JSON-able ``details``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class CasebridgeError(Exception):
    """Base of every domain error."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class InvalidInput(CasebridgeError):
    """A value breaks a rule; ``field`` names the offending input where there is one."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        details = {"field": field} if field is not None else None
        super().__init__(message, details=details, code=code)
        self.field = field


class ImagingLinkRejected(InvalidInput):
    """An imaging URL was refused; ``reason`` says why in one snake_case word."""

    code = "imaging_link_rejected"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="url")
        self.reason = reason
        self.details = {"field": "url", "reason": reason}


class InvalidInputs(InvalidInput):
    """Several values break rules at once. It reads as the first problem (its message
    and field); ``problems`` holds each, so a form can mark every field in one go."""

    def __init__(self, problems: Sequence[InvalidInput]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field, code=first.code)
        self.problems = tuple(problems)
        self.details = {"field": first.field, "errors": [
            {"field": p.field, "message": p.message} for p in self.problems]}


def gather(*checks: Callable[[], object]) -> None:
    """Run every check, even after one refuses: raise nothing, the one problem found,
    or :class:`InvalidInputs` with all of them (a person fixes a form in one pass)."""
    problems: list[InvalidInput] = []
    for check in checks:
        try:
            check()
        except InvalidInputs as exc:
            problems.extend(exc.problems)
        except InvalidInput as exc:
            problems.append(exc)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInputs(problems)


class ArchiveUnavailable(CasebridgeError):
    """The hospital's image archive did not answer as it should: ``gateway_status`` is
    502 (it refused or answered nonsense), 503 (unreachable) or 504 (too slow)."""

    code = "archive_unavailable"

    def __init__(self, message: str, *, gateway_status: int) -> None:
        super().__init__(message, details={"gateway_status": gateway_status})
        self.gateway_status = gateway_status


class NotAuthenticated(CasebridgeError):
    code = "not_authenticated"


class PermissionDenied(CasebridgeError):
    code = "forbidden"


class TooManyRequests(CasebridgeError):
    """Too many tries (sign-in throttling): ``retry_after`` seconds until the next one."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class NotFound(CasebridgeError):
    code = "not_found"


class Conflict(CasebridgeError):
    code = "conflict"


class IllegalTransition(Conflict):
    """``machine`` may not move from ``current`` to ``target``."""

    code = "illegal_transition"

    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(
            f"A {machine} cannot go from {current} to {target}.",
            details={"machine": machine, "from": current, "to": target},
        )
        self.machine = machine
        self.current = current
        self.target = target


class StaleVersion(Conflict):
    code = "stale_version"

    def __init__(self, *, expected: int, actual: int) -> None:
        super().__init__(
            f"This decision was changed by someone else (you read version {expected}, "
            f"it is now version {actual}). Reload it and apply your changes again.",
            details={"your_version": expected, "current_version": actual},
        )
        self.expected = expected
        self.actual = actual


class SignedDecisionImmutable(Conflict):
    code = "decision_signed"

    def __init__(self) -> None:
        super().__init__("This decision is signed and can no longer be edited; amend it instead.")


class QuorumNotMet(Conflict):
    """Sign-off refused; ``missing`` names each role the quorum rule still needs."""

    code = "quorum_not_met"

    def __init__(self, missing: Sequence[str]) -> None:
        names = ", ".join(missing)
        super().__init__(
            f"Cannot sign yet: the decision needs {names} present.",
            details={"missing": list(missing)},
        )
        self.missing = list(missing)


class AgendaMismatch(Conflict):
    code = "agenda_mismatch"
