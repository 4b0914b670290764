"""The signaling codec: round trips, golden wire shapes, every refusal code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import get_args

import pytest
from pydantic import ValidationError

from conference import people
from conference.people import ConferenceRole, Role, Specialty
from signaling import errors
from signaling.protocol import (
    CLIENT_TYPES,
    MAX_FRAME_BYTES,
    SERVER_TYPES,
    Admit,
    Advance,
    Agenda,
    AgendaChanged,
    Answer,
    Candidate,
    Chat,
    ChatLine,
    ChatMessage,
    ClientMessage,
    DecisionSigned,
    Denied,
    Deny,
    ErrorMessage,
    IceServer,
    Join,
    Leave,
    Lobby,
    LobbyGuests,
    Media,
    Offer,
    ParticipantInfo,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    Reconnect,
    ServerMessage,
    Tracks,
    VideoPaused,
    Welcome,
    dump,
    error_message,
    parse,
    parse_ice_servers,
    parse_server,
)

T0 = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)
ALICE = ParticipantInfo(
    participant_id="p1",
    user_id="u1",
    display_name="Dr Alice Ng",
    role=Role.SPECIALIST,
    specialty=Specialty.NEUROSURGERY,
    conference_role=ConferenceRole.CHAIR,
    audio=True,
    video=False,
)
GUEST = ParticipantInfo(
    participant_id="p2",
    user_id="u2",
    display_name="Visiting fellow",
    role=Role.SPECIALIST,
    specialty=None,
    conference_role=ConferenceRole.GUEST,
    audio=False,
    video=False,
)

CLIENT_SAMPLES: list[ClientMessage] = [
    Join(),
    Join(display_name="Guest from Lyon", audio=False, video=True),
    Offer(sdp="v=0\r\n"),
    Answer(sdp="v=0\r\n"),
    Candidate(candidate="candidate:1 1 udp 2122260223 10.0.0.2 54321 typ host", sdpMid="0"),
    Candidate(candidate="", sdpMid=None, sdpMLineIndex=0, usernameFragment="EsAw"),
    Advance(item_id="item-7"),
    Advance(item_id=None),
    Admit(participant_id="p2"),
    Deny(participant_id="p2"),
    Media(audio=False, video=True),
    Leave(),
    Chat(body="Blocks first, then decide."),
]
SERVER_SAMPLES: list[ServerMessage] = [
    Welcome(
        participant_id="p1",
        participants=(ALICE,),
        current_item_id="item-7",
        started_at=T0,
        ice_servers=(IceServer(urls=("turn:turn.example.org",), username="u", credential="c"),),
    ),
    Welcome(participant_id="p1", participants=(), current_item_id=None),
    Lobby(position=2),
    Answer(sdp="v=0\r\n"),
    Offer(sdp="v=0\r\n"),
    Tracks(streams={"stream-a": "p1"}),
    VideoPaused(streams={"stream-a": "poor-connection"}),
    VideoPaused(streams={}),
    ParticipantJoined(participant=ALICE),
    ParticipantUpdated(participant=GUEST),
    ParticipantLeft(participant_id="p2"),
    Agenda(current_item_id="item-7", started_at=T0),
    Agenda(current_item_id=None, started_at=None),
    LobbyGuests(guests=(GUEST,)),
    Denied(),
    ErrorMessage(code="forbidden", message="only the chair may admit guests"),
    DecisionSigned(item_id="item-7", outcome="physical_therapy", revision=2),
    AgendaChanged(),
    ChatLine(message=ChatMessage(id=1, author_id="u1", author_name="Dr. A", body="Hello",
                                 created_at=T0, item_id="item-7", case_id=3)),
    ChatLine(message=ChatMessage(id=2, author_id="u1", author_name="Dr. A", body="Hi",
                                 created_at=T0)),
    Reconnect(),
]


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=repr)
def test_parse_round_trips_client_message(message: ClientMessage) -> None:
    assert parse(dump(message)) == message


@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=repr)
def test_parse_server_round_trips_server_message(message: ServerMessage) -> None:
    assert parse_server(dump(message)) == message


def test_samples_cover_every_message_type() -> None:
    assert {m.type for m in CLIENT_SAMPLES} == set(CLIENT_TYPES)
    assert {m.type for m in SERVER_SAMPLES} == set(SERVER_TYPES)


def test_message_types_include_the_contract() -> None:
    contract_client = {"join", "offer", "answer", "candidate", "advance", "admit", "media", "leave"}
    contract_server = {
        "welcome", "lobby", "answer", "offer", "tracks", "participant-joined",
        "participant-updated", "participant-left", "agenda", "error",
    }  # fmt: skip
    assert contract_client <= set(CLIENT_TYPES)
    assert contract_server <= set(SERVER_TYPES)


def test_parse_reads_browser_candidate_json() -> None:
    # What Chrome's RTCIceCandidate.toJSON() produces, sent as is.
    frame = json.dumps(
        {
            "type": "candidate",
            "candidate": "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "EsAw",
        }
    )
    assert parse(frame) == Candidate(
        candidate="candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx",
        sdpMid="0",
        sdpMLineIndex=0,
        usernameFragment="EsAw",
    )


def test_dump_writes_contract_field_names() -> None:
    welcome = json.loads(dump(SERVER_SAMPLES[0]))
    assert welcome == {
        "type": "welcome",
        "participant_id": "p1",
        "participants": [
            {
                "participant_id": "p1",
                "user_id": "u1",
                "display_name": "Dr Alice Ng",
                "role": "specialist",
                "specialty": "neurosurgery",
                "conference_role": "chair",
                "audio": True,
                "video": False,
                "item_ids": [],
            }
        ],
        "current_item_id": "item-7",
        "started_at": "2025-03-04T15:30:00Z",
        "ice_servers": [{"urls": ["turn:turn.example.org"], "username": "u", "credential": "c"}],
        "ice_transport_policy": "all",
    }


def test_participant_roles_are_the_domain_enums_with_their_wire_values() -> None:
    from_enums = ParticipantInfo(
        participant_id="p1", user_id="u1", display_name="Dr Alice Ng",
        role=people.Role.SPECIALIST, specialty=people.Specialty.NEUROSURGERY,
        conference_role=people.ConferenceRole.CHAIR, audio=True, video=False,
    )
    assert from_enums == ALICE and ALICE.role is people.Role.SPECIALIST
    assert from_enums.model_dump_json() == ALICE.model_dump_json()
    assert json.loads(from_enums.model_dump_json()) == {
        "participant_id": "p1", "user_id": "u1", "display_name": "Dr Alice Ng",
        "role": "specialist", "specialty": "neurosurgery", "conference_role": "chair",
        "audio": True, "video": False, "item_ids": [],
    }
    read = ParticipantInfo.model_validate_json(from_enums.model_dump_json())
    assert read.conference_role is people.ConferenceRole.CHAIR


def test_dump_writes_candidate_in_webrtc_spelling() -> None:
    frame = json.loads(dump(Candidate(candidate="c", sdpMid="1", sdpMLineIndex=1)))
    assert set(frame) == {"type", "candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}


def test_dump_omits_absent_ice_credentials() -> None:
    welcome = Welcome(
        participant_id="p1",
        participants=(),
        current_item_id=None,
        ice_servers=(IceServer(urls="stun:stun.hospital.example"),),
    )
    assert json.loads(dump(welcome))["ice_servers"] == [{"urls": "stun:stun.hospital.example"}]


def test_parse_ice_servers_reads_the_environment_format() -> None:
    text = '[{"urls": ["turn:turn.hospital.example:3478"], "username": "u", "credential": "c"},'
    text += ' {"urls": "stun:stun.hospital.example"}]'
    assert parse_ice_servers(text) == (
        IceServer(urls=("turn:turn.hospital.example:3478",), username="u", credential="c"),
        IceServer(urls="stun:stun.hospital.example"),
    )
    assert parse_ice_servers("[]") == ()


@pytest.mark.parametrize("text", ["{}", '[{"urls": 5}]', '[{"url": "stun:x"}]', "not json"])
def test_parse_ice_servers_refuses_malformed_setting(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ice_servers(text)


def test_agenda_converts_offset_times_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    agenda = Agenda(current_item_id="i", started_at=datetime(2025, 3, 4, 16, 30, tzinfo=paris))
    assert json.loads(dump(agenda))["started_at"] == "2025-03-04T15:30:00Z"


def test_agenda_rejects_naive_time() -> None:
    with pytest.raises(ValidationError):
        Agenda(current_item_id="i", started_at=datetime(2025, 3, 4, 15, 30))


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("", errors.BadJson),
        ("{type: join}", errors.BadJson),
        # pydantic's one-pass parser reads NaN as a number; no field takes one
        ('{"type": "media", "audio": NaN}', errors.InvalidMessage),
        ("[" * 50_000 + "]" * 50_000, errors.BadJson),
        ("[]", errors.InvalidMessage),
        ('"join"', errors.InvalidMessage),
        ("42", errors.InvalidMessage),
        ("null", errors.InvalidMessage),
        ("{}", errors.InvalidMessage),
        ('{"type": 5}', errors.InvalidMessage),
        ('{"type": null}', errors.InvalidMessage),
        ('{"type": "jump"}', errors.UnknownType),
        ('{"type": "welcome", "participant_id": "p"}', errors.UnknownType),
        ('{"type": "JOIN"}', errors.UnknownType),
        ('{"type": "offer"}', errors.InvalidMessage),
        ('{"type": "offer", "sdp": 5}', errors.InvalidMessage),
        ('{"type": "offer", "sdp": ["v=0"]}', errors.InvalidMessage),
        ('{"type": "offer", "sdp": ""}', errors.InvalidMessage),
        ('{"type": "media", "audio": "yes", "video": true}', errors.InvalidMessage),
        ('{"type": "media", "audio": 1, "video": true}', errors.InvalidMessage),
        ('{"type": "media", "audio": true}', errors.InvalidMessage),
        ('{"type": "advance", "item_id": 7}', errors.InvalidMessage),
        ('{"type": "advance"}', errors.InvalidMessage),
        ('{"type": "admit", "participant_id": ""}', errors.InvalidMessage),
        ('{"type": "candidate", "candidate": "c", "sdp_mid": "0"}', errors.InvalidMessage),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": "0"}', errors.InvalidMessage),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": -1}', errors.InvalidMessage),
        ('{"type": "join", "display_name": "   "}', errors.InvalidMessage),
        ('{"type": "leave", "reason": "bye"}', errors.InvalidMessage),
    ],
)
def test_parse_refuses_bad_frame_with_code(frame: str, error: type[errors.ProtocolError]) -> None:
    with pytest.raises(error) as caught:
        parse(frame)
    assert caught.value.code == error.code
    assert str(caught.value)


def test_parse_names_the_bad_field_without_echoing_it() -> None:
    with pytest.raises(errors.InvalidMessage) as caught:
        parse(json.dumps({"type": "offer", "sdp": 123456789}))
    assert "sdp" in str(caught.value)
    assert "123456789" not in str(caught.value)


def test_parse_refuses_frame_over_the_limit() -> None:
    frame = json.dumps({"type": "offer", "sdp": "a" * MAX_FRAME_BYTES})
    with pytest.raises(errors.TooLarge) as caught:
        parse(frame)
    assert caught.value.code == "too_large"


def test_parse_counts_utf8_bytes_not_characters() -> None:
    frame = json.dumps({"type": "offer", "sdp": "é" * (MAX_FRAME_BYTES // 2)}, ensure_ascii=False)
    assert len(frame) < MAX_FRAME_BYTES < len(frame.encode())
    with pytest.raises(errors.TooLarge):
        parse(frame)


def test_parse_accepts_frame_at_the_limit() -> None:
    padding = MAX_FRAME_BYTES - len(json.dumps({"type": "offer", "sdp": ""}))
    frame = json.dumps({"type": "offer", "sdp": "a" * padding})
    assert len(frame.encode()) == MAX_FRAME_BYTES
    assert parse(frame) == Offer(sdp="a" * padding)


# A Chrome-shaped SDP (Chrome 12x, unified plan, BUNDLE): one audio and one video
# m-section per party, each carrying the lines Chrome writes for it.
_FINGERPRINT = "sha-256 " + ":".join(["DA", "7B", "57", "DC", "28", "CE", "04", "4F"] * 4)
_FEEDBACK = ("goog-remb", "transport-cc", "ccm fir", "nack", "nack pli")
_H264 = [f"packetization-mode={m};profile-level-id={p}" for p in ("42001f", "42e01f", "4d001f",
         "64001f") for m in (0, 1)]  # fmt: skip
_VIDEO_EXTMAPS = (
    "14 urn:ietf:params:rtp-hdrext:toffset",
    "13 urn:3gpp:video-orientation",
    "5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
    "7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
    "8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
    "10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
)


def _section(mid: int, kind: str, payload_types: list[int]) -> str:
    msid = f"7c5b0a9e-0b7f-4b4e-9a57-3f0b6f7cd2e1 a1b2c3d4-e5f6-4a7b-8c9d-{mid:012d}"
    return (
        f"m={kind} 9 UDP/TLS/RTP/SAVPF {' '.join(map(str, payload_types))}\r\n"
        "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\n"
        "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\na=ice-options:trickle\r\n"
        f"a=fingerprint:{_FINGERPRINT}\r\na=setup:actpass\r\na=mid:{mid}\r\n"
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\n"
        f"a=msid:{msid}\r\na=ssrc:{1000 + mid} cname:Yq6dLmCpQqLu4pZz\r\n"
        f"a=ssrc:{1000 + mid} msid:{msid}\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    )


def _audio(mid: int) -> str:
    return _section(mid, "audio", [111, 63, 9, 0, 8, 13, 110, 126]) + (
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n"
        "a=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
        "a=rtpmap:126 telephone-event/8000\r\n"
    )


def _video(mid: int, all_codecs: bool) -> str:
    codecs = [("VP8", "")]
    if all_codecs:  # what Chrome offers without setCodecPreferences
        codecs += [("VP9", "profile-id=0"), ("VP9", "profile-id=2"), ("AV1", "profile=0")]
        codecs += [("H264", f"level-asymmetry-allowed=1;{fmtp}") for fmtp in _H264]
    lines = [f"a=extmap:{extmap}\r\n" for extmap in _VIDEO_EXTMAPS]
    for index, (name, fmtp) in enumerate(codecs):
        pt = 96 + 2 * index
        lines.append(f"a=rtpmap:{pt} {name}/90000\r\n")
        lines += [f"a=rtcp-fb:{pt} {fb}\r\n" for fb in _FEEDBACK]
        lines.append(f"a=fmtp:{pt} {fmtp}\r\n" if fmtp else "")
        lines.append(f"a=rtpmap:{pt + 1} rtx/90000\r\na=fmtp:{pt + 1} apt={pt}\r\n")
    if all_codecs:
        lines.append("a=rtpmap:39 red/90000\r\na=rtpmap:40 rtx/90000\r\na=fmtp:40 apt=39\r\n")
        lines.append("a=rtpmap:118 ulpfec/90000\r\n")
    lines.append(f"a=ssrc-group:FID {1000 + mid} {3000 + mid}\r\n")
    lines.append(f"a=ssrc:{3000 + mid} cname:Yq6dLmCpQqLu4pZz\r\n")
    types = [96 + i for i in range(2 * len(codecs))] + ([39, 40, 118] if all_codecs else [])
    return _section(mid, "video", types) + "".join(lines)


def _room_sdp(parties: int, all_codecs: bool) -> str:
    sections = [_audio(m) if m % 2 == 0 else _video(m, all_codecs) for m in range(2 * parties)]
    bundle = " ".join(str(m) for m in range(2 * parties))
    header = (
        f"v=0\r\no=- 46117314 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {bundle}\r\n"
    )
    return header + "".join(sections)


def test_parse_accepts_twelve_party_sdp() -> None:
    sdp = _room_sdp(12, all_codecs=False)
    frame = dump(Answer(sdp=sdp))
    assert 30 * 1024 < len(frame.encode()) < MAX_FRAME_BYTES  # JSON escapes add 2 bytes a line
    assert parse(frame) == Answer(sdp=sdp)


def test_parse_accepts_twelve_party_offer_with_every_chrome_codec() -> None:
    sdp = _room_sdp(12, all_codecs=True)
    frame = dump(Offer(sdp=sdp))
    assert 64 * 1024 < len(frame.encode()) < MAX_FRAME_BYTES  # why the limit is 128 KiB
    assert parse(frame) == Offer(sdp=sdp)


def test_error_message_carries_the_error_code() -> None:
    message = error_message(errors.Forbidden("only the chair may admit guests"))
    assert message == ErrorMessage(code="forbidden", message="only the chair may admit guests")


def test_error_message_falls_back_to_code_without_text() -> None:
    assert error_message(errors.RateLimited()).message == "rate_limited"


def test_errors_cover_every_contract_code() -> None:
    leaves = [
        errors.BadJson, errors.UnknownType, errors.InvalidMessage, errors.TooLarge,
        errors.InvalidSdp, errors.RateLimited, errors.Forbidden, errors.NotFound,
        errors.InvalidState, errors.RoomFull,
    ]  # fmt: skip
    assert sorted(cls.code for cls in leaves) == sorted(get_args(errors.ErrorCode))
    assert all(issubclass(cls, errors.SignalingError) for cls in leaves)
    assert issubclass(errors.Forbidden, errors.RoomError)
    assert issubclass(errors.TooLarge, errors.ProtocolError)
