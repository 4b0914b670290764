"""Who may do what: each rule that more than one layer asks."""

import pytest

from conference.errors import PermissionDenied
from conference.people import ConferenceRole, Role
from conference.permissions import (
    may_advance,
    may_change_status,
    may_draft,
    may_enter_conference,
    require_drafter,
    takes_part,
)


@pytest.mark.parametrize(("role", "is_chair", "allowed"), [
    (Role.SPECIALIST, True, True),           # the chair
    (Role.COORDINATOR, False, True),
    (Role.ADMIN, False, True),               # an admin, even as a plain member
    (Role.SPECIALIST, False, False),         # a plain member
    (Role.REFERRING_CLINICIAN, False, False),  # a guest member
])
def test_may_advance_one_rule_for_every_layer(role: Role, is_chair: bool, allowed: bool) -> None:
    assert may_advance(role=role, is_chair=is_chair) is allowed
    assert may_advance(role=role.value, is_chair=is_chair) is allowed  # the room's wire form


@pytest.mark.parametrize(("role", "conference_role", "allowed"), [
    (Role.SPECIALIST, ConferenceRole.CHAIR, True),
    (Role.SPECIALIST, ConferenceRole.MEMBER, True),
    (Role.REFERRING_CLINICIAN, ConferenceRole.GUEST, True),
    (Role.COORDINATOR, None, True),          # organisers run every conference
    (Role.ADMIN, None, True),
    (Role.SPECIALIST, None, False),          # an outsider
    (Role.REFERRING_CLINICIAN, None, False),
])
def test_may_enter_conference_members_and_organisers(
    role: Role, conference_role: ConferenceRole | None, allowed: bool
) -> None:
    assert may_enter_conference(role=role, conference_role=conference_role) is allowed


@pytest.mark.parametrize(("role", "is_chair", "allowed"), [
    (Role.SPECIALIST, True, True),
    (Role.COORDINATOR, False, True),
    (Role.ADMIN, False, True),
    (Role.SPECIALIST, False, False),
    (Role.REFERRING_CLINICIAN, False, False),
])
def test_may_change_status_organisers_and_the_chair(role: Role, is_chair: bool,
                                                    allowed: bool) -> None:
    assert may_change_status(role=role, is_chair=is_chair) is allowed


@pytest.mark.parametrize(("conference_role", "allowed"), [
    (ConferenceRole.CHAIR, True), (ConferenceRole.MEMBER, True),
    (ConferenceRole.GUEST, False), (None, False),
])
def test_may_draft_members_and_the_chair_only(conference_role: ConferenceRole | None,
                                              allowed: bool) -> None:
    assert may_draft(conference_role) is allowed
    if allowed:
        require_drafter(conference_role)
    else:
        with pytest.raises(PermissionDenied):
            require_drafter(conference_role)


@pytest.mark.parametrize(("conference_role", "own", "current", "expected"), [
    (ConferenceRole.GUEST, {"3"}, "3", True),         # their case
    (ConferenceRole.GUEST, {"3"}, "4", False),        # another patient's
    (ConferenceRole.GUEST, {"3"}, None, False),       # nothing under discussion
    (ConferenceRole.GUEST, set(), "3", False),        # no case of theirs at all
    (ConferenceRole.MEMBER, set(), "4", True),
    (ConferenceRole.CHAIR, set(), None, True),
    (None, set(), "4", True),                         # an organiser, not a member
])
def test_takes_part_guests_only_in_their_own_case(conference_role: ConferenceRole | None,
                                                  own: set[str], current: str | None,
                                                  expected: bool) -> None:
    assert takes_part(conference_role=conference_role, own_item_ids=own,
                      current_item_id=current) is expected
