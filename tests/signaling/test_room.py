"""The room state machine: transitions, refusals, lobby, agenda, attendance."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from conference.people import ConferenceRole, Role, Specialty
from signaling.errors import Forbidden, InvalidState, NotFound
from signaling.protocol import (
    Admit,
    Advance,
    Agenda,
    Denied,
    Deny,
    IceServer,
    Join,
    Leave,
    Lobby,
    LobbyGuests,
    Media,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    ServerMessage,
    Welcome,
)
from signaling.room import Identity, Outgoing, Room, State

T0 = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=12)
CHAIR = Identity("u-chair", "Dr Chair", Role.SPECIALIST, Specialty.NEUROSURGERY,
                 ConferenceRole.CHAIR)
MEMBER = Identity("u-member", "Dr Member", Role.SPECIALIST, Specialty.RADIOLOGY,
                  ConferenceRole.MEMBER)
MEMBER2 = Identity("u-member2", "Dr Second", Role.SPECIALIST, Specialty.PAIN_MEDICINE,
                   ConferenceRole.MEMBER)
COORDINATOR = Identity("u-coord", "Coordinator", Role.COORDINATOR)  # organiser, not a member
GUEST = Identity("u-guest", "Guest account", Role.SPECIALIST, Specialty.OTHER,
                 ConferenceRole.GUEST, item_ids=frozenset({"i1"}))


def inbox(outgoing: list[Outgoing]) -> dict[str, list[ServerMessage]]:
    """Messages per recipient, in order."""
    boxes: dict[str, list[ServerMessage]] = defaultdict(list)
    for out in outgoing:
        boxes[out.to].append(out.message)
    return dict(boxes)


def enter(room: Room, pid: str, identity: Identity) -> list[Outgoing]:
    room.connect(pid, identity)
    return room.join(pid, Join())


def make_room(*present: tuple[str, Identity], current: str | None = None) -> Room:
    """A room with items i1-i3 (``current`` under discussion) and these people in it.
    The guest's case is i1: guest tests make it current, unless they test otherwise."""
    room = Room("conf-1", agenda_item_ids=["i1", "i2", "i3"])
    room.restore_agenda(current, T0 if current else None)
    for pid, identity in present:
        enter(room, pid, identity)
    return room


def ids(room: Room) -> list[str]:
    return [p.participant_id for p in room.present]


# ------------------------------------------------------------------ join


def test_room_join_member_welcomed_and_announced() -> None:
    room = make_room(("chair", CHAIR))
    got = inbox(enter(room, "m", MEMBER))
    welcome = got["m"][0]
    assert isinstance(welcome, Welcome)
    assert welcome.participant_id == "m"
    assert [p.participant_id for p in welcome.participants] == ["chair", "m"]
    assert got["chair"] == [ParticipantJoined(participant=room.present[1])]
    assert room.state_of("m") is State.PRESENT


def test_room_join_late_gets_current_item_and_ice_servers() -> None:
    ice = IceServer(urls="turn:turn.hospital.example", username="u", credential="c")
    room = Room("conf-1", agenda_item_ids=["i1"], ice_servers=[ice])
    enter(room, "chair", CHAIR)
    room.advance("chair", "i1", T0)
    welcome = inbox(enter(room, "m", MEMBER))["m"][0]
    assert isinstance(welcome, Welcome)
    assert (welcome.current_item_id, welcome.started_at) == ("i1", T0)
    assert welcome.ice_servers == (ice,)


def test_room_join_twice_is_invalid_state() -> None:
    room = make_room(("m", MEMBER))
    with pytest.raises(InvalidState):
        room.join("m", Join())


def test_room_join_without_connect_is_invalid_state() -> None:
    with pytest.raises(InvalidState):
        make_room().join("ghost", Join())


def test_room_connect_twice_is_invalid_state() -> None:
    room = make_room()
    room.connect("m", MEMBER)
    with pytest.raises(InvalidState):
        room.connect("m", MEMBER2)


def test_room_join_member_keeps_account_name() -> None:
    room = make_room()
    room.connect("m", MEMBER)
    room.join("m", Join(display_name="Someone else"))
    assert room.present[0].display_name == "Dr Member"


def test_room_join_guest_cannot_take_another_name() -> None:
    """Security issue item 6: a guest link for "Guest Gina" joined as another doctor."""
    room = make_room(("chair", CHAIR))
    room.connect("g", GUEST)
    room.join("g", Join(display_name="Dr. Amara Okafor"))
    assert room.lobby[0].display_name == GUEST.display_name


def test_room_join_initial_media_state_is_shown() -> None:
    room = make_room()
    room.connect("m", MEMBER)
    room.join("m", Join(audio=False, video=True))
    assert (room.present[0].audio, room.present[0].video) == (False, True)


# ------------------------------------------------------------------ lobby


def test_room_join_guest_waits_in_lobby() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    got = inbox(enter(room, "g", GUEST))
    assert got["g"] == [Lobby(position=1)]
    assert got["chair"] == [LobbyGuests(guests=room.lobby)]
    assert "m" not in got  # members do not see the lobby
    assert ids(room) == ["chair", "m"]
    assert room.state_of("g") is State.LOBBY


def test_room_join_chair_sees_guests_already_waiting() -> None:
    room = make_room(current="i1")
    enter(room, "g", GUEST)
    got = inbox(enter(room, "chair", CHAIR))
    assert isinstance(got["chair"][0], Welcome)
    assert got["chair"][1] == LobbyGuests(guests=room.lobby)
    assert "g" not in got


def test_room_admit_guest_welcomed_and_announced() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    enter(room, "g", GUEST)
    got = inbox(room.admit("chair", "g"))
    welcome = got["g"][0]
    assert isinstance(welcome, Welcome)
    assert [p.participant_id for p in welcome.participants] == ["chair", "m", "g"]
    assert got["m"] == [ParticipantJoined(participant=room.present[2])]
    assert got["chair"] == [
        ParticipantJoined(participant=room.present[2]),
        LobbyGuests(guests=()),
    ]
    assert room.state_of("g") is State.PRESENT


def test_room_admit_by_member_is_forbidden() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    enter(room, "g", GUEST)
    with pytest.raises(Forbidden):
        room.admit("m", "g")
    assert room.state_of("g") is State.LOBBY


def test_room_admit_by_coordinator_is_forbidden() -> None:
    room = make_room(("c", COORDINATOR), current="i1")
    enter(room, "g", GUEST)
    with pytest.raises(Forbidden):
        room.admit("c", "g")


def test_room_admit_by_guest_in_lobby_is_invalid_state() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g1", GUEST)
    enter(room, "g2", GUEST)
    with pytest.raises(InvalidState):
        room.admit("g1", "g2")


def test_room_admit_unknown_participant_is_not_found() -> None:
    room = make_room(("chair", CHAIR))
    with pytest.raises(NotFound):
        room.admit("chair", "nobody")


def test_room_admit_connected_but_not_joined_is_not_found() -> None:
    room = make_room(("chair", CHAIR))
    room.connect("g", GUEST)
    with pytest.raises(NotFound):
        room.admit("chair", "g")


def test_room_admit_present_member_is_invalid_state() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    with pytest.raises(InvalidState):
        room.admit("chair", "m")


def test_room_deny_guest_gets_denied_and_leaves_lobby() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g1", GUEST)
    enter(room, "g2", GUEST)
    got = inbox(room.deny("chair", "g1"))
    assert got["g1"] == [Denied()]
    assert got["g2"] == [Lobby(position=1)]
    assert got["chair"] == [LobbyGuests(guests=room.lobby)]
    assert [g.participant_id for g in room.lobby] == ["g2"]
    assert room.state_of("g1") is State.CONNECTED


def test_room_deny_by_member_is_forbidden() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    enter(room, "g", GUEST)
    with pytest.raises(Forbidden):
        room.deny("m", "g")


def test_room_lobby_positions_move_up_when_first_is_admitted() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    for pid in ("g1", "g2", "g3"):
        enter(room, pid, GUEST)
    got = inbox(room.admit("chair", "g1"))
    assert got["g2"] == [Lobby(position=1)]
    assert got["g3"] == [Lobby(position=2)]


def test_room_lobby_positions_move_up_only_behind_a_leaver() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    for pid in ("g1", "g2", "g3"):
        enter(room, pid, GUEST)
    got = inbox(room.leave("g2"))
    assert "g1" not in got
    assert got["g3"] == [Lobby(position=2)]
    assert [g.participant_id for g in room.lobby] == ["g1", "g3"]


def test_room_lobby_positions_move_up_when_guest_disconnects() -> None:
    room = make_room(current="i1")
    enter(room, "g1", GUEST)
    enter(room, "g2", GUEST)
    assert inbox(room.disconnect("g1")) == {"g2": [Lobby(position=1)]}
    assert "g1" not in room


# ------------------------------------------------------------------ agenda


def test_room_advance_by_chair_tells_everyone_present() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    enter(room, "g", GUEST)
    got = inbox(room.advance("chair", "i1", T0))
    expected = [Agenda(current_item_id="i1", started_at=T0)]
    # The guest waits on: now for the chair to admit them, their case being current.
    assert got == {"chair": expected, "m": expected, "g": [Lobby(position=1)]}
    assert (room.current_item_id, room.started_at) == ("i1", T0)


def test_room_advance_by_coordinator_is_allowed() -> None:
    room = make_room(("c", COORDINATOR))
    room.advance("c", "i2", T0)
    assert room.current_item_id == "i2"


def test_room_advance_by_member_is_forbidden() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    with pytest.raises(Forbidden):
        room.advance("m", "i1", T0)
    assert room.current_item_id is None


def test_room_advance_by_admitted_guest_is_forbidden() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    with pytest.raises(Forbidden):
        room.advance("g", "i1", T0)


def test_room_advance_before_join_is_invalid_state() -> None:
    room = make_room()
    room.connect("chair", CHAIR)
    with pytest.raises(InvalidState):
        room.advance("chair", "i1", T0)


def test_room_advance_unknown_item_is_not_found() -> None:
    room = make_room(("chair", CHAIR))
    with pytest.raises(NotFound):
        room.advance("chair", "i9", T0)


def test_room_advance_to_current_item_resyncs_sender_only() -> None:
    room = make_room(("chair", CHAIR), ("c", COORDINATOR))
    room.advance("chair", "i1", T0)
    got = inbox(room.advance("c", "i1", T1))
    assert got == {"c": [Agenda(current_item_id="i1", started_at=T0)]}
    assert room.started_at == T0


def test_room_advance_to_none_ends_discussion() -> None:
    room = make_room(("chair", CHAIR))
    room.advance("chair", "i1", T0)
    got = inbox(room.advance("chair", None, T1))
    assert got == {"chair": [Agenda(current_item_id=None, started_at=None)]}


def test_room_update_agenda_makes_new_item_reachable() -> None:
    room = make_room(("chair", CHAIR))
    room.update_agenda(["i1", "i2", "i3", "i4"])
    room.advance("chair", "i4", T0)
    assert room.current_item_id == "i4"


# ------------------------------------------------------------------ media


def test_room_media_tells_everyone_present() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    enter(room, "g", GUEST)
    got = inbox(room.set_media("m", audio=False, video=True))
    updated = ParticipantUpdated(participant=room.present[1])
    assert got == {"chair": [updated], "m": [updated]}
    assert updated.participant.audio is False


def test_room_media_unchanged_sends_nothing() -> None:
    room = make_room(("m", MEMBER))
    assert room.set_media("m", audio=True, video=True) == []


def test_room_media_before_join_is_invalid_state() -> None:
    room = make_room()
    room.connect("m", MEMBER)
    with pytest.raises(InvalidState):
        room.set_media("m", audio=False, video=False)


def test_room_media_in_lobby_is_kept_private_until_admitted() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g", GUEST)
    assert room.set_media("g", audio=False, video=False) == []
    room.admit("chair", "g")
    assert (room.present[1].audio, room.present[1].video) == (False, False)


# ------------------------------------------------------------------ leave


def test_room_leave_announced_to_others() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    assert inbox(room.leave("m")) == {"chair": [ParticipantLeft(participant_id="m")]}
    assert ids(room) == ["chair"]
    assert room.state_of("m") is State.CONNECTED


def test_room_leave_twice_is_invalid_state() -> None:
    room = make_room(("m", MEMBER))
    room.leave("m")
    with pytest.raises(InvalidState):
        room.leave("m")


def test_room_join_again_after_leave() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    room.leave("m")
    got = inbox(room.join("m", Join()))
    assert isinstance(got["m"][0], Welcome)
    assert ids(room) == ["chair", "m"]


def test_room_disconnect_leaves_and_is_idempotent() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    assert inbox(room.disconnect("m")) == {"chair": [ParticipantLeft(participant_id="m")]}
    assert room.disconnect("m") == []
    assert "m" not in room
    room.disconnect("chair")
    assert room.is_empty


def test_room_state_of_unknown_is_invalid_state() -> None:
    with pytest.raises(InvalidState):
        make_room().state_of("ghost")


def test_room_ensure_present_gates_media_negotiation() -> None:
    room = make_room(("m", MEMBER))
    enter(room, "g", GUEST)
    room.connect("x", MEMBER2)
    room.ensure_present("m")
    for pid in ("g", "x", "ghost"):
        with pytest.raises(InvalidState):
            room.ensure_present(pid)


# ------------------------------------------------------------------ attendance


def test_room_attendance_counts_mid_item_joiner_and_early_leaver() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    room.advance("chair", "i1", T0)
    enter(room, "m2", MEMBER2)  # joins mid-item
    room.leave("m")  # leaves early
    room.advance("chair", "i2", T1)
    assert room.attendance() == {
        "i1": {"u-chair", "u-member", "u-member2"},
        "i2": {"u-chair", "u-member2"},
    }


def test_room_attendance_excludes_guests_in_lobby() -> None:
    room = make_room(("chair", CHAIR))
    enter(room, "g", GUEST)
    room.advance("chair", "i2", T0)
    room.advance("chair", "i1", T1)
    room.admit("chair", "g")
    assert room.attendance() == {"i2": {"u-chair"}, "i1": {"u-chair", "u-guest"}}


def test_room_attendance_excludes_non_member_organiser() -> None:
    room = make_room(("chair", CHAIR), ("c", COORDINATOR))
    room.advance("c", "i1", T0)
    assert room.attendance() == {"i1": {"u-chair"}}


def test_room_attendance_records_nothing_without_current_item() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    room.leave("m")
    assert room.attendance() == {}
    room.advance("chair", "i1", T0)
    assert room.attendance() == {"i1": {"u-chair"}}


def test_room_attendance_accumulates_when_item_revisited() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER))
    room.advance("chair", "i1", T0)
    room.advance("chair", "i2", T0)
    enter(room, "m2", MEMBER2)
    room.advance("chair", "i1", T1)
    assert room.attendance()["i1"] == {"u-chair", "u-member", "u-member2"}


def test_room_attendance_returns_a_snapshot() -> None:
    room = make_room(("chair", CHAIR))
    room.advance("chair", "i1", T0)
    snapshot = room.attendance()
    enter(room, "m", MEMBER)
    assert snapshot == {"i1": {"u-chair"}}


# ------------------------------------------------------------------ dispatch


def test_room_handle_dispatches_every_room_message() -> None:
    room = make_room()
    room.connect("chair", CHAIR)
    room.connect("g1", GUEST)
    room.connect("g2", GUEST)
    room.handle("chair", Join(), T0)
    room.handle("g1", Join(), T0)
    room.handle("g2", Join(), T0)
    room.handle("chair", Advance(item_id="i1"), T0)
    room.handle("chair", Admit(participant_id="g1"), T0)
    room.handle("chair", Deny(participant_id="g2"), T0)
    room.handle("chair", Advance(item_id="i3"), T1)
    room.handle("g1", Media(audio=False, video=False), T1)
    room.handle("g1", Leave(), T1)
    assert ids(room) == ["chair"]
    assert room.state_of("g2") is State.CONNECTED
    assert (room.current_item_id, room.started_at) == ("i3", T1)
    assert room.attendance() == {"i1": {"u-chair", "u-guest"}, "i3": {"u-chair"}}


ADMIN_MEMBER = Identity("u-admin", "Avery Admin", Role.ADMIN, None, ConferenceRole.MEMBER)


def test_room_advance_by_an_admin_member_is_allowed() -> None:
    room = make_room(("a", ADMIN_MEMBER), ("m", MEMBER))
    room.check_advance("a")
    room.advance("a", "i1", T0)
    assert room.current_item_id == "i1"
    with pytest.raises(Forbidden):
        room.check_advance("m")


# ------------------------------------------------------------------ guests and their case
# Issue 9 item 1: a guest admitted for case A stayed in the room, hearing and seen,
# while the panel discussed other patients.

REFERRER = Identity("u-ref", "Dr Referrer", Role.REFERRING_CLINICIAN, None,
                    ConferenceRole.GUEST, item_ids=frozenset({"i1", "i3"}))


def test_room_guest_arriving_during_another_case_waits_for_theirs() -> None:
    room = make_room(("chair", CHAIR), current="i2")
    got = inbox(enter(room, "g", GUEST))
    assert got["g"] == [Lobby(position=1, reason="another_case")]
    assert [g.item_ids for g in room.lobby] == [("i1",)]  # the chair sees which case
    with pytest.raises(InvalidState, match="not under discussion"):
        room.admit("chair", "g")
    assert room.state_of("g") is State.LOBBY and ids(room) == ["chair"]


def test_room_guest_goes_back_to_the_lobby_when_the_agenda_moves_on() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    got = inbox(room.advance("chair", "i2", T1))
    agenda = Agenda(current_item_id="i2", started_at=T1)
    assert got["g"] == [Lobby(position=1, reason="another_case")]  # not the agenda
    assert got["m"] == [ParticipantLeft(participant_id="g"), agenda]
    assert got["chair"] == [ParticipantLeft(participant_id="g"), agenda,
                            LobbyGuests(guests=room.lobby)]
    assert room.state_of("g") is State.LOBBY and ids(room) == ["chair", "m"]
    with pytest.raises(InvalidState):
        room.ensure_present("g")  # no media negotiated for them any more
    assert room.attendance()["i2"] == {"u-chair", "u-member"}


def test_room_guest_comes_back_by_themselves_when_their_case_returns() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    room.advance("chair", "i2", T1)
    got = inbox(room.advance("chair", "i1", T1))
    assert isinstance(got["g"][0], Welcome) and got["g"][0].current_item_id == "i1"
    assert ParticipantJoined(participant=room.present[2]) in got["m"]
    assert got["chair"][-1] == LobbyGuests(guests=())
    assert ids(room) == ["chair", "m", "g"] and room.lobby == ()


def test_room_guest_never_admitted_waits_for_the_chair_when_their_case_comes() -> None:
    room = make_room(("chair", CHAIR), current="i2")
    enter(room, "g", GUEST)
    got = inbox(room.advance("chair", "i1", T1))
    assert got["g"] == [Lobby(position=1)]  # no reason: the chair may admit them now
    assert "g" not in ids(room)
    room.admit("chair", "g")
    assert ids(room) == ["chair", "g"]


def test_room_guest_reconnecting_during_their_case_is_let_back_in() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    room.disconnect("g")  # a dropped network
    got = inbox(enter(room, "g-again", GUEST))
    assert isinstance(got["g-again"][0], Welcome)
    room.advance("chair", "i2", T1)
    room.disconnect("g-again")
    assert inbox(enter(room, "g-3", GUEST))["g-3"] == [Lobby(position=1, reason="another_case")]


def test_room_denied_guest_is_not_let_back_in_by_themselves() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    room.advance("chair", "i2", T1)
    room.advance("chair", "i1", T1)
    room.leave("g")
    room.join("g", Join())
    room.advance("chair", "i2", T1)
    room.deny("chair", "g")
    room.join("g", Join())
    room.advance("chair", "i1", T1)
    assert room.state_of("g") is State.LOBBY


def test_room_guest_leaves_when_discussion_ends() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "g", GUEST)
    room.admit("chair", "g")
    room.advance("chair", None, T1)
    assert room.state_of("g") is State.LOBBY and ids(room) == ["chair"]


def test_room_guest_with_two_cases_stays_between_them() -> None:
    room = make_room(("chair", CHAIR), current="i1")
    enter(room, "r", REFERRER)
    room.admit("chair", "r")
    room.advance("chair", "i3", T1)  # their other patient
    assert room.state_of("r") is State.PRESENT
    assert room.attendance()["i3"] == {"u-chair", "u-ref"}
    room.disconnect("r")
    assert isinstance(inbox(enter(room, "r2", REFERRER))["r2"][0], Welcome)
    room.advance("chair", "i2", T1)
    assert room.state_of("r2") is State.LOBBY


def test_room_members_stay_whatever_the_agenda() -> None:
    room = make_room(("chair", CHAIR), ("m", MEMBER), ("c", COORDINATOR), current="i1")
    for item in ("i2", None, "i3"):
        room.advance("chair", item, T1)
        assert ids(room) == ["chair", "m", "c"]
