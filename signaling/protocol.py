"""The signaling wire format (CONTRACT "Signaling") as a pure codec.

One JSON object per WebSocket text frame, discriminated by ``"type"``. ``parse``
turns a client frame into a typed ``ClientMessage`` or raises a
``ProtocolError`` carrying the CONTRACT error code; ``dump`` turns a message
into the frame text. ``parse_server`` exists for tests, Python clients and
instances relaying server messages to each other over the bus.

Why pydantic models rather than frozen dataclasses: frames come from the
network, so each field needs validation anyway; pydantic's strict mode does it
declaratively (``"audio": "yes"`` or ``"sdp": 5`` is refused, never coerced),
``extra="forbid"`` catches a misspelt field such as ``sdp_mid``, and error
locations come for free. ``frozen=True`` keeps messages immutable values.

Field names are snake_case like the rest of the CONTRACT, except the ICE
candidate fields, which keep WebRTC's ``RTCIceCandidateInit`` spelling
(``sdpMid``, ``sdpMLineIndex``, ``usernameFragment``) so a browser can send
``candidate.toJSON()`` as is. Ids are strings; times are ISO 8601 in UTC.

Additions to the CONTRACT (added, nothing renamed): client ``deny`` (the chair
turns a lobby guest away); server ``denied`` (sent to that guest, who is then
disconnected) and ``lobby-guests`` (the ordered lobby, sent to chairs whenever
it changes); ``join`` may carry the initial ``audio``/``video`` state;
``welcome`` carries ``started_at``; participants carry ``conference_role``;
``advance`` accepts ``item_id: null`` to end discussion of the current item.
"""

from __future__ import annotations

import functools
import operator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    model_serializer,
)

from conference import people
from conference.errors import CasebridgeError, Conflict, InvalidInput, NotFound, PermissionDenied
from signaling.errors import (
    BadJson,
    ErrorCode,
    InvalidMessage,
    SignalingError,
    TooLarge,
    UnknownType,
)

__all__ = [
    "Admit",
    "Advance",
    "Agenda",
    "Answer",
    "CLIENT_TYPES",
    "Candidate",
    "Chat",
    "ChatLine",
    "ChatMessage",
    "ClientMessage",
    "ConferenceRole",
    "AgendaChanged",
    "DecisionSigned",
    "Denied",
    "Deny",
    "DisplayName",
    "ErrorMessage",
    "IceServer",
    "Id",
    "Join",
    "Leave",
    "Lobby",
    "LobbyGuests",
    "LobbyReason",
    "MAX_FRAME_BYTES",
    "Media",
    "Offer",
    "ParticipantInfo",
    "ParticipantJoined",
    "ParticipantLeft",
    "ParticipantUpdated",
    "Role",
    "SERVER_TYPES",
    "Sdp",
    "ServerMessage",
    "Specialty",
    "Tracks",
    "UtcDatetime",
    "VideoPaused",
    "Welcome",
    "dump",
    "error_message",
    "parse",
    "parse_ice_servers",
    "parse_server",
]

# A Chrome answer for a 12-party room (24 m-sections) is ~30-40 KiB once JSON
# escapes every CRLF; a re-offer with Chrome's full codec list is larger still.
# 128 KiB leaves room for that while bounding what one frame can cost us.
MAX_FRAME_BYTES = 128 * 1024

# The domain's enums; their wire values ("chair") are accepted where built in Python.
Role = Annotated[people.Role, Field(strict=False)]
Specialty = Annotated[people.Specialty, Field(strict=False)]
ConferenceRole = Annotated[people.ConferenceRole, Field(strict=False)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Sdp = Annotated[str, StringConstraints(min_length=1)]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


# ----------------------------------------------------------------- client -> server


class Join(_Message):
    """First message; answered by ``welcome``, or ``lobby`` for a guest."""

    type: Literal["join"] = "join"
    display_name: DisplayName | None = None
    audio: bool = True
    video: bool = True


class Offer(_Message):
    """Session description offer (either direction)."""

    type: Literal["offer"] = "offer"
    sdp: Sdp


class Answer(_Message):
    """Session description answer (either direction)."""

    type: Literal["answer"] = "answer"
    sdp: Sdp


class Candidate(_Message):
    """Trickled ICE candidate, in ``RTCIceCandidateInit`` spelling."""

    type: Literal["candidate"] = "candidate"
    candidate: Annotated[str, StringConstraints(max_length=1024)]
    sdpMid: str | None = None  # WebRTC spelling, see module docstring
    sdpMLineIndex: Annotated[int, Field(ge=0, le=65535)] | None = None
    usernameFragment: str | None = None


class Advance(_Message):
    """Chair or coordinator: make an agenda item current (``None``: none)."""

    type: Literal["advance"] = "advance"
    item_id: Id | None


class Chat(_Message):
    """A line typed in the room's chat: stored in the thread of the current item's
    case and sent to everyone present (not from guests)."""

    type: Literal["chat"] = "chat"
    body: Annotated[str, StringConstraints(max_length=20_000)]


class Admit(_Message):
    """Chair: let a guest in from the lobby."""

    type: Literal["admit"] = "admit"
    participant_id: Id


class Deny(_Message):
    """Chair: turn a guest in the lobby away."""

    type: Literal["deny"] = "deny"
    participant_id: Id


class Media(_Message):
    """The sender's own microphone and camera state."""

    type: Literal["media"] = "media"
    audio: bool
    video: bool


class Leave(_Message):
    """The sender leaves the room (or the lobby)."""

    type: Literal["leave"] = "leave"


# ----------------------------------------------------------------- server -> client


class IceServer(_Message):
    """One ``RTCIceServer``; absent credentials are omitted, never ``null``."""

    urls: str | tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Browsers turn a null username into the string "null" (WebIDL DOMString).
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ParticipantInfo(_Message):
    """A participant as others see them."""

    participant_id: Id
    user_id: Id
    display_name: str
    role: Role
    specialty: Specialty | None
    conference_role: ConferenceRole | None
    audio: bool
    video: bool
    # A guest's own agenda items (the cases they take part in); empty for others.
    item_ids: tuple[Id, ...] = ()


class Welcome(_Message):
    """You are in: everyone present (you included) and the current item."""

    type: Literal["welcome"] = "welcome"
    participant_id: Id
    participants: tuple[ParticipantInfo, ...]
    current_item_id: Id | None
    started_at: UtcDatetime | None = None
    ice_servers: tuple[IceServer, ...] = ()
    # "relay": media only through the TURN relays listed (CASEBRIDGE_ICE_TRANSPORT_POLICY)
    ice_transport_policy: Literal["all", "relay"] = "all"


LobbyReason = Literal["another_case"]


class Lobby(_Message):
    """You wait; ``position`` 1 is next in line. Without a ``reason`` you wait for the
    chair to admit you; ``another_case``: the panel is discussing another patient,
    and you are brought in (or may be admitted) when your case is current."""

    type: Literal["lobby"] = "lobby"
    position: Annotated[int, Field(ge=1)]
    reason: LobbyReason | None = None


class Tracks(_Message):
    """Which remote stream (SDP ``a=msid`` stream id) belongs to whom."""

    type: Literal["tracks"] = "tracks"
    streams: dict[str, Id]


class VideoPaused(_Message):
    """The video streams the server has stopped sending this participant, and why:
    ``poor-connection`` when their link cannot carry them (audio is never paused).
    The whole set each time; an empty one when all video flows again."""

    type: Literal["video-paused"] = "video-paused"
    streams: dict[str, Literal["poor-connection"]]


class ParticipantJoined(_Message):
    type: Literal["participant-joined"] = "participant-joined"
    participant: ParticipantInfo


class ParticipantUpdated(_Message):
    type: Literal["participant-updated"] = "participant-updated"
    participant: ParticipantInfo


class ParticipantLeft(_Message):
    type: Literal["participant-left"] = "participant-left"
    participant_id: Id


class Agenda(_Message):
    """The current agenda item and when it became current."""

    type: Literal["agenda"] = "agenda"
    current_item_id: Id | None
    started_at: UtcDatetime | None


class LobbyGuests(_Message):
    """To chairs: the guests waiting in the lobby, first in line first."""

    type: Literal["lobby-guests"] = "lobby-guests"
    guests: tuple[ParticipantInfo, ...]


class Denied(_Message):
    """To a lobby guest the chair turned away; the server then closes."""

    type: Literal["denied"] = "denied"


class DecisionSigned(_Message):
    """A decision about an agenda item was signed or amended (wherever that happened:
    a page, the API, another app instance), so the room can see it at once."""

    type: Literal["decision-signed"] = "decision-signed"
    item_id: Id
    outcome: str
    revision: int


class ChatMessage(_Message):
    """One stored chat line, as everyone present sees it."""

    id: Annotated[int, Field(ge=1)]
    author_id: Id
    author_name: str
    body: str
    created_at: UtcDatetime
    item_id: Id | None = None
    case_id: Annotated[int, Field(ge=1)] | None = None


class ChatLine(_Message):
    """To everyone present: a line someone typed in the room's chat."""

    type: Literal["chat"] = "chat"
    message: ChatMessage


class AgendaChanged(_Message):
    """Cases were added, reordered, re-timed or deferred: show the agenda again."""

    type: Literal["agenda-changed"] = "agenda-changed"


class Reconnect(_Message):
    """This instance stops hosting the room (another owns it, or it is shutting
    down): connect again; the same seat is kept."""

    type: Literal["reconnect"] = "reconnect"


class ErrorMessage(_Message):
    """The answer to any bad message; the connection lives on."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str


ClientMessage = Join | Offer | Answer | Candidate | Advance | Admit | Deny | Media | Leave | Chat
ServerMessage = (
    Welcome
    | Lobby
    | Answer
    | Offer
    | Tracks
    | VideoPaused
    | ParticipantJoined
    | ParticipantUpdated
    | ParticipantLeft
    | Agenda
    | LobbyGuests
    | Denied
    | DecisionSigned
    | AgendaChanged
    | ChatLine
    | Reconnect
    | ErrorMessage
)


def _types(union: Any) -> frozenset[str]:
    return frozenset(cls.model_fields["type"].default for cls in get_args(union))


CLIENT_TYPES = _types(ClientMessage)  # the "type" names each side may send
SERVER_TYPES = _types(ServerMessage)


def _tag(value: Any) -> str | None:
    """The message's ``type``; None (so: invalid_message) unless a string in an object.

    A callable discriminator rather than ``Field(discriminator="type")``: with the
    field name, pydantic reports ``{"type": 5}`` as an unknown tag (so
    unknown_type), where a "type" that is no string is an invalid message."""
    if isinstance(value, dict):
        kind = value.get("type")
        return kind if isinstance(kind, str) else None
    return getattr(value, "type", None)


def _adapter(union: Any) -> TypeAdapter[Any]:
    """``union`` as one discriminated union: each model tagged by its ``type``.

    One pass: the JSON text is parsed and validated at once, the ``type`` choosing
    the model; strict JSON rules (ISO times, arrays)."""
    tagged: list[Any] = [Annotated[cls, Tag(cls.model_fields["type"].default)]
                         for cls in get_args(union)]
    choices: Any = functools.reduce(operator.or_, tagged)
    return TypeAdapter(Annotated[choices, Discriminator(_tag)])


_CLIENT = _adapter(ClientMessage)
_SERVER = _adapter(ServerMessage)


def parse(text: str) -> ClientMessage:
    """Decode one client text frame.

    Raises ``TooLarge``, ``BadJson``, ``UnknownType`` or ``InvalidMessage``
    (all ``ProtocolError``), whose ``code`` goes into the ``error`` reply.
    """
    message: ClientMessage = _decode(text, _CLIENT)
    return message


def parse_server(text: str) -> ServerMessage:
    """Decode one server frame (same rules and errors as ``parse``)."""
    message: ServerMessage = _decode(text, _SERVER)
    return message


def dump(message: ServerMessage | ClientMessage) -> str:
    """Encode a message as the compact JSON text of one frame."""
    return message.model_dump_json()


_ICE_SERVERS = TypeAdapter(tuple[IceServer, ...])


def parse_ice_servers(text: str) -> tuple[IceServer, ...]:
    """Read ``CASEBRIDGE_ICE_SERVERS`` (a JSON list); ``ValueError`` if malformed."""
    return _ICE_SERVERS.validate_json(text)


# Domain refusals (from the store, in the database) as CONTRACT signaling codes.
_DOMAIN_CODES: list[tuple[type[CasebridgeError], ErrorCode]] = [
    (PermissionDenied, "forbidden"),
    (NotFound, "not_found"),
    (Conflict, "invalid_state"),
    (InvalidInput, "invalid_message"),
]


def error_message(error: SignalingError | CasebridgeError) -> ErrorMessage:
    """The ``error`` message answering any refusal: the one mapping of the
    signaling tree and of the domain's refusals."""
    if isinstance(error, CasebridgeError):
        code: ErrorCode = "invalid_state"
        for cls, mapped in _DOMAIN_CODES:
            if isinstance(error, cls):
                code = mapped
                break
        return ErrorMessage(code=code, message=error.message)
    return ErrorMessage(code=error.code, message=str(error) or error.code)


def _decode(text: str, adapter: TypeAdapter[Any]) -> Any:
    # len(text) bounds the UTF-8 size from below, so huge frames skip encoding.
    if len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES:
        raise TooLarge(f"frame exceeds {MAX_FRAME_BYTES} bytes")
    try:
        return adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        if kind == "json_invalid":
            raise BadJson("frame is not valid JSON") from None
        if kind == "union_tag_invalid":
            raise UnknownType("unknown message type") from None
        if kind == "union_tag_not_found":
            raise InvalidMessage("message must be a JSON object with a string 'type'") from None
        raise InvalidMessage(_describe(exc)) from None


def _describe(error: ValidationError) -> str:
    # Name the fields, never echo the input (it may be a 100 KiB SDP).
    parts = [
        f"{'.'.join(str(p) for p in item['loc'][1:]) or 'message'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)[:3]
    ]
    return "; ".join(parts)
