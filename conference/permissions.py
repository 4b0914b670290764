"""Who may do what: pure answers from roles and membership, no lookups.

Coordinators (and admins) organise: they create conferences and cases and may
enter any room. Members of a conference read its cases; members who are not
guests draft decisions; only the chair signs and amends. A referring clinician
sees only the cases they referred.

Where two layers ask the same question (storage refuses, a page hides a button,
the room socket closes), both call the one ``may_*`` rule here, so what people
are shown and what the system does cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Collection

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
    """Who moves the live agenda (makes an item current, or ends the current one).

    The rule: the conference's chair, who walks the agenda; or an organiser, a
    coordinator or an admin, who may step in for the chair. Admins administer the
    system, so an admin who is only a plain member of the conference may advance
    too; a plain member or a guest may not. ``role`` is the account role (its wire
    value is accepted too, as the room holds it) and ``is_chair`` whether this
    person chairs this conference.

    Storage (:func:`storage.agenda.advance` and ``end_current``), the live room
    (``signaling.room.Room.check_advance``, asked before anything is stored) and
    the room page's buttons (``can_advance``) all ask this one rule, so the
    buttons, the room and the database agree."""
    return is_chair or role in ORGANISERS


def require_may_advance(*, role: Role | str, is_chair: bool) -> None:
    """Raise unless :func:`may_advance`."""
    if not may_advance(role=role, is_chair=is_chair):
        raise PermissionDenied("Only the chair, a coordinator or an admin moves the agenda on.")


def can_view_case(
    *, role: Role, user_id: int, requested_by_id: int | None, member_of_its_conference: bool
) -> bool:
    """Organisers see every case; others see cases they referred or are conferring on."""
    if is_organiser(role):
        return True
    return requested_by_id == user_id or member_of_its_conference


def may_enter_conference(*, role: Role, conference_role: ConferenceRole | None) -> bool:
    """Who may open a conference (its page, its room page, its room socket): its
    members, whatever their conference role, and organisers, who run every
    conference without being members of it."""
    return conference_role is not None or is_organiser(role)


def takes_part(*, conference_role: ConferenceRole | None, own_item_ids: Collection[str],
               current_item_id: str | None) -> bool:
    """Whether a person in a live room takes part in it now (hears, is heard, sees
    and is seen). A guest, whether by a guest link or as a member whose conference
    role is ``guest``, takes part only while one of their own agenda items
    (``own_item_ids``) is current; everyone else whenever they are in the room.

    The live room (``signaling.room.Room``) moves guests between the lobby and the
    room on this rule each time the agenda moves; the room page shows a guest the
    current case on it."""
    if conference_role is not ConferenceRole.GUEST:
        return True
    return current_item_id is not None and current_item_id in own_item_ids


def may_change_status(*, role: Role, is_chair: bool) -> bool:
    """Who publishes, opens and closes a conference: an organiser, or its chair (who
    opens and closes the meeting they run). The conference page offers the buttons
    on this rule and storage refuses on it."""
    return is_chair or is_organiser(role)


def may_draft(conference_role: ConferenceRole | None) -> bool:
    """Members and the chair draft decisions; guests and outsiders (organisers who
    are not members included) do not: the panel that met decides."""
    return conference_role in (ConferenceRole.CHAIR, ConferenceRole.MEMBER)


def require_drafter(conference_role: ConferenceRole | None) -> None:
    """Raise unless :func:`may_draft`."""
    if not may_draft(conference_role):
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


def on_care_team(*, role: Role, user_id: int, requested_by_id: int | None,
                 conference_roles: Collection[ConferenceRole]) -> bool:
    """Who works on a case between meetings: writes in its thread (and in the room's
    chat, stored there) and records its patient-reported outcomes. The people who may
    open the case, except those who are there only as guests: organisers, the
    referring clinician of the case, and members or chairs of a conference whose
    agenda holds it (``conference_roles`` are the person's roles in those
    conferences). A guest link's holder has no account and does neither."""
    if is_organiser(role) or (requested_by_id is not None and requested_by_id == user_id):
        return True
    return any(r is not ConferenceRole.GUEST for r in conference_roles)


def sees_agenda(*, role: Role, conference_role: ConferenceRole | None) -> bool:
    """Who sees a conference's whole agenda (every case on it, the timing, the members):
    organisers, and its chair and members. A guest member (a referring clinician
    invited for their own patient) sees only the items whose case they referred, and
    when they come up: the conference page, its API, the dashboard and the room all
    filter on this rule, and a guest's membership opens no other case
    (``storage.cases.is_conferring_on``)."""
    return is_organiser(role) or conference_role in (ConferenceRole.CHAIR,
                                                     ConferenceRole.MEMBER)
