"""The live room as an explicit state machine: no I/O, no asyncio, no clock.

Each connection is a participant, keyed by a ``participant_id`` the shell
chooses (one per WebSocket). Its states::

    (absent) --connect--> CONNECTED --join (not a guest)------> PRESENT
                              |                                   ^
                              +--join (guest)--> LOBBY --admit----+  (admit: by a chair)

    LOBBY --leave, deny--> CONNECTED        PRESENT --leave--> CONNECTED
    PRESENT --advance to another case (a guest)--> LOBBY
    LOBBY --advance back to their case, admitted for it before (a guest)--> PRESENT
    any state --disconnect--> (absent)

A guest (a guest link, or a member whose conference role is ``guest``) takes
part only while one of their own agenda items is current
(:func:`conference.permissions.takes_part`): the chair admits them for that
case; when the agenda moves on they go back to the lobby (``lobby`` with the
reason ``another_case``), and when their case is current again they come back
in by themselves, the chair having admitted them for it once. Media follows
the states: the shell negotiates and forwards media for PRESENT participants
only (``ensure_present``) and drops it when one leaves that state.

Every operation returns the messages to send, already addressed to single
participants (``Outgoing``): the room alone knows who is present and who waits
in the lobby, so the shell never decides who may see what. Refusals raise
``Forbidden``, ``NotFound`` or ``InvalidState`` from ``signaling.errors``.

The room also keeps the live agenda (current item, when it started) and the
attendance of each item: the user ids of conference members who were PRESENT
at any moment while that item was current. It feeds the default
``present_user_ids`` of a decision, which the CONTRACT requires to be members,
so a coordinator organising without membership (``conference_role=None``) is
shown in the room but not counted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, assert_never

from conference.people import ConferenceRole, Role, Specialty
from conference.permissions import may_advance, takes_part
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
    ParticipantInfo,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    ServerMessage,
    Welcome,
)

__all__ = ["Identity", "Outgoing", "Room", "RoomMessage", "State"]

RoomMessage = Join | Advance | Admit | Deny | Media | Leave
"""Client messages the room handles; offer/answer/candidate go to the media shell."""


class State(enum.Enum):
    CONNECTED = "connected"
    LOBBY = "lobby"
    PRESENT = "present"


@dataclass(frozen=True)
class Identity:
    """Who is behind a connection, as authentication established it."""

    user_id: str
    display_name: str
    role: Role
    specialty: Specialty | None = None
    conference_role: ConferenceRole | None = None  # None: organiser, not a member
    item_ids: frozenset[str] = frozenset()  # a guest's own agenda items
    guest_link_id: int | None = None  # the link a guest came by, so it can be revoked

    def __post_init__(self) -> None:
        # The domain's enums, also when built from their wire values ("chair").
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "item_ids", frozenset(self.item_ids))
        if self.specialty is not None:
            object.__setattr__(self, "specialty", Specialty(self.specialty))
        if self.conference_role is not None:
            object.__setattr__(self, "conference_role", ConferenceRole(self.conference_role))


@dataclass(frozen=True)
class Outgoing:
    """One message for one participant's connection."""

    to: str
    message: ServerMessage


@dataclass
class _Participant:
    participant_id: str
    identity: Identity
    state: State = State.CONNECTED
    display_name: str = ""
    audio: bool = True
    video: bool = True

    def info(self) -> ParticipantInfo:
        who = self.identity
        return ParticipantInfo(
            participant_id=self.participant_id,
            user_id=who.user_id,
            display_name=self.display_name or who.display_name,
            role=who.role,
            specialty=who.specialty,
            conference_role=who.conference_role,
            audio=self.audio,
            video=self.video,
            item_ids=tuple(sorted(who.item_ids)) if self.is_guest else (),
        )

    @property
    def is_guest(self) -> bool:
        return self.identity.conference_role is ConferenceRole.GUEST


class Room:
    """One conference's live room."""

    def __init__(
        self,
        room_id: str,
        *,
        agenda_item_ids: Iterable[str] = (),
        ice_servers: Sequence[IceServer] = (),
        ice_servers_for: Callable[[str], Sequence[IceServer]] = lambda participant_id: (),
        ice_transport_policy: Literal["all", "relay"] = "all",
    ) -> None:
        self.room_id = room_id
        self.ice_servers = tuple(ice_servers)
        # Per participant (TURN credentials made for them); the caller owns the clock.
        self._ice_servers_for = ice_servers_for
        self.ice_transport_policy: Literal["all", "relay"] = ice_transport_policy
        self._agenda_item_ids = frozenset(agenda_item_ids)
        self._current_item_id: str | None = None
        self._started_at: datetime | None = None
        self._participants: dict[str, _Participant] = {}
        self._lobby: list[str] = []  # participant ids, first in line first
        self._attendance: dict[str, set[str]] = {}
        self._admitted: dict[str, set[str]] = {}  # guest user id -> items admitted for

    # ------------------------------------------------------------ queries

    @property
    def current_item_id(self) -> str | None:
        """The agenda item under discussion, if any."""
        return self._current_item_id

    @property
    def started_at(self) -> datetime | None:
        """When the current item became current."""
        return self._started_at

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._participants

    def state_of(self, participant_id: str) -> State:
        """The participant's state; ``InvalidState`` if never connected."""
        return self._actor(participant_id).state

    @property
    def present(self) -> tuple[ParticipantInfo, ...]:
        """Everyone admitted into the room, in order of arrival."""
        return tuple(p.info() for p in self._in_state(State.PRESENT))

    @property
    def lobby(self) -> tuple[ParticipantInfo, ...]:
        """Guests waiting for admission, first in line first."""
        return tuple(self._participants[pid].info() for pid in self._lobby)

    @property
    def is_empty(self) -> bool:
        """No connection at all: the shell may drop the room."""
        return not self._participants

    def attendance(self) -> dict[str, frozenset[str]]:
        """Per agenda item: member user ids present at any moment while it was current."""
        return {item: frozenset(users) for item, users in self._attendance.items()}

    def has_item(self, item_id: str) -> bool:
        """Is ``item_id`` on the agenda this room knows?"""
        return item_id in self._agenda_item_ids

    def identity_of(self, participant_id: str) -> Identity:
        """Who is behind a connection; ``InvalidState`` if never connected."""
        return self._actor(participant_id).identity

    def announce(self, message: ServerMessage) -> list[Outgoing]:
        """Tell everyone in the room (not the lobby) something that happened elsewhere."""
        return self._broadcast(message)

    def check_chat(self, participant_id: str) -> Identity:
        """Who may type in the room's chat: anyone present, except guests (the chat is
        stored in the case's thread, which guests read but do not write)."""
        who = self._present_actor(participant_id).identity
        if who.conference_role is ConferenceRole.GUEST or not who.user_id.isdigit():
            raise Forbidden("guests do not write in the room's chat")
        return who

    def ensure_present(self, participant_id: str) -> None:
        """Gate for offer/answer/candidate: ``InvalidState`` unless admitted."""
        if self._actor(participant_id).state is not State.PRESENT:
            raise InvalidState("join the room before negotiating media")

    # ------------------------------------------------------------ transitions

    def connect(self, participant_id: str, identity: Identity) -> None:
        """A connection was authenticated; it must still send ``join``."""
        if participant_id in self._participants:
            raise InvalidState(f"participant {participant_id} is already connected")
        self._participants[participant_id] = _Participant(participant_id, identity)

    def disconnect(self, participant_id: str) -> list[Outgoing]:
        """The connection is gone (idempotent); leaves first if needed."""
        participant = self._participants.get(participant_id)
        if participant is None:
            return []
        out = [] if participant.state is State.CONNECTED else self._leave(participant)
        del self._participants[participant_id]
        return out

    def restore_agenda(self, item_id: str | None, started_at: datetime | None) -> None:
        """Resume the stored live agenda when the room is opened again."""
        if item_id is not None and item_id not in self._agenda_item_ids:
            raise NotFound(f"no agenda item {item_id}")
        self._current_item_id = item_id
        self._started_at = started_at if item_id is not None else None

    def update_agenda(self, item_ids: Iterable[str]) -> None:
        """The conference's agenda changed (items added, removed)."""
        self._agenda_item_ids = frozenset(item_ids)

    def handle(self, participant_id: str, message: RoomMessage, now: datetime) -> list[Outgoing]:
        """Apply one client message from ``participant_id`` at time ``now``."""
        match message:
            case Join():
                return self.join(participant_id, message)
            case Advance():
                return self.advance(participant_id, message.item_id, now)
            case Admit():
                return self.admit(participant_id, message.participant_id)
            case Deny():
                return self.deny(participant_id, message.participant_id)
            case Media():
                return self.set_media(participant_id, audio=message.audio, video=message.video)
            case Leave():
                return self.leave(participant_id)
            case _:
                assert_never(message)

    def join(self, participant_id: str, message: Join) -> list[Outgoing]:
        """Enter the room, or the lobby for a guest."""
        participant = self._actor(participant_id)
        if participant.state is not State.CONNECTED:
            raise InvalidState("already joined")
        participant.audio, participant.video = message.audio, message.video
        if participant.is_guest and not self._readmitted(participant):
            # Nobody names themselves: a guest is the name on their link (what the
            # coordinator issued it for), a member their account's name. The
            # ``display_name`` a client sends is ignored, so the chair's lobby
            # shows who was invited, not who someone claims to be.
            participant.state = State.LOBBY
            self._lobby.append(participant_id)
            lobby = self._lobby_notice(participant, len(self._lobby))
            return [Outgoing(participant_id, lobby), *self._to_chairs(self._lobby_guests())]
        return self._enter(participant)

    def admit(self, actor_id: str, participant_id: str) -> list[Outgoing]:
        """A chair lets a guest in from the lobby, for their case, which must be current."""
        self._require_chair(actor_id, "admit guests")
        guest = self._guest_in_lobby(participant_id)
        if not self._takes_part(guest):
            raise InvalidState(f"{guest.info().display_name}'s case is not under discussion: "
                               "admit them when it is current")
        assert self.current_item_id is not None  # a guest takes part in a current item only
        self._admitted.setdefault(guest.identity.user_id, set()).add(self.current_item_id)
        out = self._drop_from_lobby(guest)
        return self._enter(guest) + out

    def deny(self, actor_id: str, participant_id: str) -> list[Outgoing]:
        """A chair turns a guest away; the shell closes the guest after ``Denied``."""
        self._require_chair(actor_id, "deny guests")
        guest = self._guest_in_lobby(participant_id)
        out = self._drop_from_lobby(guest)
        guest.state = State.CONNECTED
        self._admitted.pop(guest.identity.user_id, None)  # not back in by themselves
        return [Outgoing(participant_id, Denied()), *out]

    def check_advance(self, actor_id: str) -> None:
        """Raise unless this present participant may move the agenda (the one rule,
        :func:`conference.permissions.may_advance`); asked before anything is stored."""
        who = self._present_actor(actor_id).identity
        if not may_advance(role=who.role, is_chair=who.conference_role is ConferenceRole.CHAIR):
            raise Forbidden("only the chair, a coordinator or an admin may advance the agenda")

    def advance(self, actor_id: str, item_id: str | None, now: datetime) -> list[Outgoing]:
        """Chair or coordinator makes ``item_id`` current (``None``: no item)."""
        self.check_advance(actor_id)
        if item_id is not None and item_id not in self._agenda_item_ids:
            raise NotFound(f"no agenda item {item_id}")
        if item_id == self.current_item_id:
            return [Outgoing(actor_id, self._agenda())]  # double click: resync the sender
        self._current_item_id = item_id
        self._started_at = None if item_id is None else now
        waiting = list(self._lobby)
        out = self._seat_guests() + self._broadcast(self._agenda()) + self._recall_guests()
        if self._lobby != waiting:
            out += self._to_chairs(self._lobby_guests())
        return out

    def set_media(self, participant_id: str, *, audio: bool, video: bool) -> list[Outgoing]:
        """The participant's own microphone and camera state."""
        participant = self._actor(participant_id)
        if participant.state is State.CONNECTED:
            raise InvalidState("join the room before sending media state")
        if (participant.audio, participant.video) == (audio, video):
            return []
        participant.audio, participant.video = audio, video
        if participant.state is State.LOBBY:
            return []  # nobody sees a lobby guest's tiles yet
        return self._broadcast(ParticipantUpdated(participant=participant.info()))

    def leave(self, participant_id: str) -> list[Outgoing]:
        """Leave the room or the lobby; the connection may join again."""
        participant = self._actor(participant_id)
        if participant.state is State.CONNECTED:
            raise InvalidState("not in the room")
        return self._leave(participant)

    # ------------------------------------------------------------ helpers

    def _actor(self, participant_id: str) -> _Participant:
        participant = self._participants.get(participant_id)
        if participant is None:
            raise InvalidState(f"participant {participant_id} is not connected")
        return participant

    def _present_actor(self, participant_id: str) -> _Participant:
        participant = self._actor(participant_id)
        if participant.state is not State.PRESENT:
            raise InvalidState("join the room first")
        return participant

    def _require_chair(self, actor_id: str, action: str) -> None:
        if self._present_actor(actor_id).identity.conference_role is not ConferenceRole.CHAIR:
            raise Forbidden(f"only the chair may {action}")

    def _guest_in_lobby(self, participant_id: str) -> _Participant:
        participant = self._participants.get(participant_id)
        if participant is None or participant.state is State.CONNECTED:
            raise NotFound(f"no participant {participant_id} in the room or lobby")
        if participant.state is not State.LOBBY:
            raise InvalidState(f"participant {participant_id} is not waiting in the lobby")
        return participant

    def _in_state(self, state: State) -> Iterator[_Participant]:
        return (p for p in self._participants.values() if p.state is state)

    def _takes_part(self, participant: _Participant) -> bool:
        who = participant.identity
        return takes_part(conference_role=who.conference_role, own_item_ids=who.item_ids,
                          current_item_id=self.current_item_id)

    def _readmitted(self, guest: _Participant) -> bool:
        """Their case is current and the chair admitted them for it before."""
        return self._takes_part(guest) and (
            self.current_item_id in self._admitted.get(guest.identity.user_id, ()))

    def _lobby_notice(self, guest: _Participant, position: int) -> Lobby:
        return Lobby(position=position,
                     reason=None if self._takes_part(guest) else "another_case")

    def _seat_guests(self) -> list[Outgoing]:
        """After the agenda moved: guests whose case is no longer current go back to
        the lobby (the end of the line); everyone still present attends the item."""
        out: list[Outgoing] = []
        for participant in list(self._in_state(State.PRESENT)):
            if self._takes_part(participant):
                self._attend(participant)
                if participant.is_guest and self.current_item_id is not None:
                    # Another of their own cases: they stay, admitted for it too.
                    self._admitted[participant.identity.user_id].add(self.current_item_id)
                continue
            participant.state = State.LOBBY
            self._lobby.append(participant.participant_id)
            out += self._broadcast(ParticipantLeft(participant_id=participant.participant_id))
        return out

    def _recall_guests(self) -> list[Outgoing]:
        """After the agenda moved: guests admitted before for the case now current come
        back in; everyone still waiting learns their place and why they wait."""
        out: list[Outgoing] = []
        for pid in list(self._lobby):
            guest = self._participants[pid]
            if self._readmitted(guest):
                self._lobby.remove(pid)
                out += self._enter(guest)
        return out + [Outgoing(pid, self._lobby_notice(self._participants[pid], position))
                      for position, pid in enumerate(self._lobby, start=1)]

    def _enter(self, participant: _Participant) -> list[Outgoing]:
        participant.state = State.PRESENT
        self._attend(participant)
        welcome = Welcome(
            participant_id=participant.participant_id,
            participants=self.present,
            current_item_id=self.current_item_id,
            started_at=self.started_at,
            ice_servers=(*self.ice_servers,
                         *self._ice_servers_for(participant.participant_id)),
            ice_transport_policy=self.ice_transport_policy,
        )
        out = [Outgoing(participant.participant_id, welcome)]
        if participant.identity.conference_role is ConferenceRole.CHAIR and self._lobby:
            out.append(Outgoing(participant.participant_id, self._lobby_guests()))
        joined = ParticipantJoined(participant=participant.info())
        return out + self._broadcast(joined, but=participant.participant_id)

    def _leave(self, participant: _Participant) -> list[Outgoing]:
        if participant.state is State.LOBBY:
            out = self._drop_from_lobby(participant)
        else:
            left = ParticipantLeft(participant_id=participant.participant_id)
            out = self._broadcast(left, but=participant.participant_id)
        participant.state = State.CONNECTED
        return out

    def _drop_from_lobby(self, guest: _Participant) -> list[Outgoing]:
        """Remove a guest from the line; tell those behind and the chairs."""
        index = self._lobby.index(guest.participant_id)
        del self._lobby[index]
        moved = [
            Outgoing(pid, self._lobby_notice(self._participants[pid], position))
            for position, pid in enumerate(self._lobby[index:], start=index + 1)
        ]
        return moved + self._to_chairs(self._lobby_guests())

    def _attend(self, participant: _Participant) -> None:
        if self.current_item_id is None or participant.identity.conference_role is None:
            return
        users = self._attendance.setdefault(self.current_item_id, set())
        users.add(participant.identity.user_id)

    def _agenda(self) -> Agenda:
        return Agenda(current_item_id=self.current_item_id, started_at=self.started_at)

    def _lobby_guests(self) -> LobbyGuests:
        return LobbyGuests(guests=self.lobby)

    def _broadcast(self, message: ServerMessage, but: str | None = None) -> list[Outgoing]:
        present = self._in_state(State.PRESENT)
        return [Outgoing(p.participant_id, message) for p in present if p.participant_id != but]

    def _to_chairs(self, message: ServerMessage) -> list[Outgoing]:
        chairs = (p for p in self._in_state(State.PRESENT)
                  if p.identity.conference_role is ConferenceRole.CHAIR)
        return [Outgoing(p.participant_id, message) for p in chairs]
