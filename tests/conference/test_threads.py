import pytest

from conference.errors import InvalidInput
from conference.people import ConferenceRole, Role
from conference.permissions import on_care_team
from conference.threads import MAX_BODY, check_body, check_mentions


def test_a_line_is_trimmed_and_bounded() -> None:
    assert check_body("  Plateau at week 6?  \n") == "Plateau at week 6?"
    assert len(check_body("x" * MAX_BODY)) == MAX_BODY
    for bad in ("", "   \n ", "x" * (MAX_BODY + 1), "a\x00b"):
        with pytest.raises(InvalidInput) as refused:
            check_body(bad)
        assert refused.value.field == "body"


def test_mentions_only_of_people_who_may_open_the_case() -> None:
    assert check_mentions([3, 4, 3], may_open=[3, 4, 5]) == [3, 4]
    with pytest.raises(InvalidInput, match=r"not 9") as refused:
        check_mentions([3, 9], may_open=[3, 4])
    assert refused.value.field == "mentions"


def test_who_writes_in_a_thread() -> None:
    def may(role: Role = Role.SPECIALIST, *roles: ConferenceRole, referrer: int | None = None
            ) -> bool:
        return on_care_team(role=role, user_id=7, requested_by_id=referrer,
                                conference_roles=roles)

    assert may(Role.COORDINATOR) and may(Role.ADMIN)
    assert may(Role.SPECIALIST, ConferenceRole.MEMBER)
    assert may(Role.SPECIALIST, ConferenceRole.GUEST, ConferenceRole.CHAIR)
    assert may(Role.REFERRING_CLINICIAN, ConferenceRole.GUEST, referrer=7)  # their own case
    assert not may(Role.REFERRING_CLINICIAN, ConferenceRole.GUEST, referrer=8)
    assert not may(Role.SPECIALIST)
