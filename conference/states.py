"""A tiny helper shared by the domain's state machines."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from conference.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


def require_transition(
    machine: str, table: Mapping[S, frozenset[S]], current: S, target: S
) -> None:
    """Raise :class:`IllegalTransition` unless ``table`` allows ``current -> target``."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(machine, current.value, target.value)
