"""Who may do what: each rule that more than one layer asks."""

import pytest

from conference.people import Role
from conference.permissions import may_advance


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
