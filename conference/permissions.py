"""Who may do what: pure answers from roles and membership, no lookups.

Coordinators (and admins) organise: they create conferences and cases and may
enter any room. Members of a conference read its cases; members who are not
guests draft decisions; only the chair signs and amends. A referring clinician
sees only the cases they referred.
"""

from __future__ import annotations

from conference.errors import PermissionDenied
from conference.people import ConferenceRole, Role

ORGANISERS = frozenset({Role.ADMIN, Role.COORDINATOR})


def is_organiser(role: Role) -> bool:
    """Coordinators and admins organise: every conference, case and room is theirs."""
    return role in ORGANISERS


def require_organiser(role: Role, what: str) -> None:
    """Raise unless ``role`` is a coordinator or admin."""
    if not is_organiser(role):
        raise PermissionDenied(f"Only a coordinator can {what}.")


def require_admin(role: Role, what: str) -> None:
    """Raise unless ``role`` is an administrator."""
    if role is not Role.ADMIN:
        raise PermissionDenied(f"Only an administrator can {what}.")


def may_advance(*, role: Role | str, is_chair: bool) -> bool:
    """Who moves the live agenda: the conference's chair walks it, and an organiser
    (coordinator or admin) may step in for them. Storage, the room and the room
    page all ask this one rule, so the buttons, the room and the database agree."""
    return is_chair or role in ORGANISERS


def require_may_advance(*, role: Role | str, is_chair: bool) -> None:
    if not may_advance(role=role, is_chair=is_chair):
        raise PermissionDenied("Only the chair, a coordinator or an admin moves the agenda on.")


def can_view_case(
    *, role: Role, user_id: int, requested_by_id: int | None, member_of_its_conference: bool
) -> bool:
    """Organisers see every case; others see cases they referred or are conferring on."""
    if is_organiser(role):
        return True
    return requested_by_id == user_id or member_of_its_conference


def require_drafter(conference_role: ConferenceRole | None) -> None:
    """Members and the chair draft decisions; guests and outsiders do not."""
    if conference_role not in (ConferenceRole.CHAIR, ConferenceRole.MEMBER):
        raise PermissionDenied("Only members of this conference can record its decisions.")


def require_chair(*, user_id: int, chair_id: int, what: str) -> None:
    """Raise unless the person chairs the conference."""
    if user_id != chair_id:
        raise PermissionDenied(f"Only the chair of this conference can {what}.")


def can_edit_case(*, role: Role, user_id: int, requested_by_id: int | None) -> bool:
    """Coordinators prepare any case; a referring clinician completes their own."""
    return is_organiser(role) or (
        role is Role.REFERRING_CLINICIAN and requested_by_id == user_id
    )
