"""The media router with real aiortc peers over loopback (no mocks)."""

from __future__ import annotations

import asyncio
import re
import threading
from itertools import pairwise
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.clock import current_ntp_time

from signaling.forwarding import (
    CLOSE_TIMEOUT,
    KEYFRAME_REQUEST_INTERVAL,
    PROMPT_KEYFRAME_INTERVAL,
    MediaRouter,
    _Source,
    ntp_now,
)
from signaling.media_errors import Glare, InvalidSdp, InvalidState, UnknownParticipant
from signaling.sdp import NegotiatedIds, count_media, media_ssrcs, restrict_codecs, stream_ids
from tests.signaling.conftest import BrowserOffer, Room, wait_for

CODECS = {"audio": "opus", "video": "VP8"}


def _sections(sdp: str) -> list[str]:
    return ["m=" + part for part in sdp.split("\r\nm=")[1:]]


def _assert_ids(sdp: str, browser: BrowserOffer) -> None:
    """Every m-line uses the browser's payload types and extension ids, and nothing else."""
    for section in _sections(sdp):
        rtpmaps = set(re.findall(r"a=rtpmap:(\d+ \S+)", section))
        if section.startswith("m=video"):
            assert rtpmaps == {f"{browser.vp8} VP8/90000", f"{browser.vp8_rtx} rtx/90000"}, section
            assert f"a=fmtp:{browser.vp8_rtx} apt={browser.vp8}" in section
            assert (f"a=extmap:{browser.abs_send_time} "
                    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time") in section
        else:
            assert rtpmaps == {f"{browser.opus} opus/48000/2"}, section
            assert (f"a=extmap:{browser.audio_level} "
                    "urn:ietf:params:rtp-hdrext:ssrc-audio-level") in section
        assert f"a=extmap:{browser.mid} urn:ietf:params:rtp-hdrext:sdes:mid" in section


async def test_router_three_participants_receive_each_other(room: Room) -> None:
    clients = [await room.join(name) for name in ("ana", "ben", "cho")]

    def everyone_receives() -> bool:
        return all(
            c.frames_from(other.id, "video") >= 5 and c.frames_from(other.id, "audio") >= 10
            for c in clients
            for other in clients
            if other is not c
        )

    await wait_for(everyone_receives, timeout=15)
    for client in clients:
        streams = room.router.streams_for(client.id)
        assert streams == client.streams  # what the CONTRACT `tracks` messages said
        assert sorted(streams.values()) == sorted({"ana", "ben", "cho"} - {client.id})


async def test_router_late_joiner_gets_first_frame_within_2s(room: Room) -> None:
    ana, ben = await room.join("ana"), await room.join("ben")
    await wait_for(
        lambda: ana.frames_from("ben", "video") > 0 and ben.frames_from("ana", "video") > 0
    )
    await asyncio.sleep(1.0)  # their keyframes are long gone (aiortc: one per ~100 s)

    cho = await room.join("cho")
    await wait_for(
        lambda: cho.first_video_from("ana") is not None and cho.first_video_from("ben") is not None,
        timeout=5,
    )
    for publisher in ("ana", "ben"):
        first = cho.first_video_from(publisher)
        assert first is not None and first - cho.joined_at < 2.0


async def test_router_leaving_ends_the_others_tracks(room: Room) -> None:
    ana, ben, _ = [await room.join(name) for name in ("ana", "ben", "cho")]
    await wait_for(
        lambda: ana.frames_from("cho", "video") > 0 and ben.frames_from("cho", "video") > 0
    )

    await room.leave("cho")

    for client in (ana, ben):
        await wait_for(lambda c=client: len(c.receiving()) == 2)  # type: ignore[misc]
        inactive = [t for t in client.pc.getTransceivers() if t.currentDirection == "inactive"]
        assert len(inactive) == 2
        assert "cho" not in room.router.streams_for(client.id).values()
        assert all(client.publisher(t) != "cho" for t in client.receiving())


async def test_router_recycles_inactive_mlines(room: Room) -> None:
    ana = await room.join("ana")
    for n in range(5):
        guest = f"guest{n}"
        await room.join(guest)
        await wait_for(lambda g=guest: ana.frames_from(g, "video") > 0)  # type: ignore[misc]
        await room.leave(guest)
        await wait_for(lambda: not ana.receiving())
    # ana's two published m-lines plus one audio and one video slot, reused each time
    assert count_media(ana.pc.remoteDescription.sdp) == 4
    assert len(ana.offers) == 10  # one offer per join and one per leave


async def test_router_close_leaks_no_tasks_threads_or_connections() -> None:
    threads_before = set(threading.enumerate())
    tasks_before = asyncio.all_tasks()
    room = Room()
    ana, ben = await room.join("ana"), await room.join("ben")
    await wait_for(
        lambda: ana.frames_from("ben", "video") > 0 and ben.frames_from("ana", "video") > 0
    )
    server_pcs = [peer.pc for peer in room.router._peers.values()]

    await room.close()

    assert all(pc.connectionState == "closed" for pc in server_pcs)
    assert not room.router._peers
    # The test clients encode in the loop's default executor (aiortc's
    # run_in_executor); those workers belong to the loop, which joins them here.
    await asyncio.get_running_loop().shutdown_default_executor()
    await wait_for(lambda: set(threading.enumerate()) <= threads_before, timeout=5)
    await asyncio.sleep(0.1)
    leaked = asyncio.all_tasks() - tasks_before - {asyncio.current_task()}
    assert not leaked, leaked


async def test_router_serializes_renegotiation_per_participant(room: Room) -> None:
    ana = await room.join("ana")
    await wait_for(lambda: room.router._peers["ana"].connected)
    gate = asyncio.Event()
    answer_now = ana.on_offer

    async def slow_on_offer(sdp: str, streams: dict[str, str]) -> None:
        await gate.wait()
        await answer_now(sdp, streams)

    ana.on_offer = slow_on_offer  # type: ignore[method-assign]
    await room.join("ben")
    await room.join("cho")
    await asyncio.sleep(0.3)
    assert len(ana.offers) == 0  # the first offer (with ben) is still unanswered
    assert room.router._peers["ana"].pc.signalingState == "have-local-offer"

    gate.set()
    await wait_for(lambda: len(ana.receiving()) == 4)
    assert sorted(room.router.streams_for("ana").values()) == ["ben", "cho"]
    assert len(ana.offers) == 2  # the first offer, then exactly one more for cho


def test_sdp_reoffer_keeps_the_browsers_payload_types_and_extmap_ids(
        browser_offer: BrowserOffer) -> None:
    ids = NegotiatedIds()
    ids.learn(restrict_codecs(browser_offer.sdp, CODECS))
    aiortc_offer = _aiortc_offer()
    assert "a=rtpmap:97 VP8/90000" in aiortc_offer  # aiortc's own default differs

    pinned = ids.pin(restrict_codecs(aiortc_offer, CODECS))

    _assert_ids(pinned, browser_offer)
    assert count_media(pinned) == count_media(aiortc_offer)


def test_sdp_restrict_codecs_keeps_only_vp8_and_opus(browser_offer: BrowserOffer) -> None:
    restricted = restrict_codecs(browser_offer.sdp, CODECS)
    _assert_ids(restricted, browser_offer)
    assert not re.search("VP9|H264|AV1|red/|ulpfec|G722|PCMU|telephone-event", restricted)
    ids = NegotiatedIds()
    ids.learn(restricted)
    assert set(ids.payload_types) == {
        "audio/opus/48000/2", "video/vp8/90000", "video/rtx/90000/apt=video/vp8/90000"}


def test_sdp_restrict_codecs_leaves_a_rejected_mline_alone(browser_offer: BrowserOffer) -> None:
    # Port 0 without a=bundle-only rejects the m-line (RFC 3264 section 6; RFC 8843 7.2).
    rejected = re.sub(r"m=video \d+", "m=video 0", browser_offer.sdp).replace(
        "a=bundle-only\n", "")
    video = _sections(restrict_codecs(rejected, CODECS))[1]
    assert video.startswith("m=video 0 ") and "a=rtpmap:" in video
    assert video.replace("\r\n", "\n") in rejected  # left exactly as offered


def test_sdp_stream_ids_and_ssrcs_of_a_browser_offer(browser_offer: BrowserOffer) -> None:
    # Audio and video of one browser share one a=msid stream: one tile in the grid.
    assert stream_ids(browser_offer.sdp) == {"0": browser_offer.stream, "1": browser_offer.stream}
    assert media_ssrcs(browser_offer.sdp) == browser_offer.ssrcs


def test_sdp_new_codecs_get_free_ids() -> None:
    ids = NegotiatedIds(
        payload_types={"audio/opus/48000/2": 97},
        extensions={"urn:ietf:params:rtp-hdrext:ssrc-audio-level": 1},
    )
    pinned = ids.pin(restrict_codecs(_aiortc_offer(), CODECS))
    # aiortc wants VP8 at 97 and the mid extension at 1; both are taken.
    assert ids.payload_types["video/vp8/90000"] != 97
    assert len(set(ids.payload_types.values())) == len(ids.payload_types) == 3
    assert ids.extensions["urn:ietf:params:rtp-hdrext:sdes:mid"] != 1
    assert f"a=rtpmap:{ids.payload_types['video/vp8/90000']} VP8/90000" in pinned


def test_sdp_restrict_codecs_refuses_an_mline_without_the_codec(
        browser_offer: BrowserOffer) -> None:
    no_vp8 = browser_offer.sdp.replace("VP8/90000", "H265/90000")
    with pytest.raises(ValueError, match="VP8"):
        restrict_codecs(no_vp8, CODECS)


async def test_router_reoffers_to_a_browser_with_its_own_ids(browser_offer: BrowserOffer) -> None:
    captured: list[tuple[str, dict[str, str]]] = []
    room = Room()
    name = browser_offer.name

    async def on_offer(participant_id: str, sdp: str, streams: dict[str, str]) -> None:
        if participant_id == name:
            captured.append((sdp, streams))
        else:
            await room.clients[participant_id].on_offer(sdp, streams)

    room.router = MediaRouter(ice_servers=[], on_offer=on_offer)
    try:
        await room.router.add(name)
        answer = await room.router.accept_offer(name, browser_offer.sdp)
        _assert_ids(answer, browser_offer)
        sources = room.router._peers[name].sources
        assert {mid: s.ssrc for mid, s in sources.items()} == browser_offer.ssrcs
        assert len({s.stream_id for s in sources.values()}) == 1  # one stream, as offered
        # Nothing answers this golden offer's ICE, so stand in for the connected
        # state the router waits for before it re-offers (the live-room browser
        # test covers the same re-offer with a real Chromium).
        room.router._peers[name].connected = True

        await room.join("bob")
        await wait_for(lambda: bool(captured))
        offer, streams = captured[0]
        _assert_ids(offer, browser_offer)
        assert set(streams.values()) == {"bob"}
        assert count_media(offer) == 4

        # Glare: the server's offer is outstanding and the server is impolite.
        with pytest.raises(Glare):
            await room.router.accept_offer(name, browser_offer.sdp)
    finally:
        await room.close()
        await room.router.close()


async def test_router_errors(room: Room) -> None:
    with pytest.raises(UnknownParticipant):
        await room.router.accept_offer("nobody", "v=0\r\n")
    await room.router.add("ana")
    with pytest.raises(InvalidState):
        await room.router.add("ana")
    with pytest.raises(InvalidSdp):
        await room.router.accept_offer("ana", "not sdp")
    with pytest.raises(InvalidState):
        await room.router.accept_answer("ana", "v=0\r\n")
    await room.router.remove("ana")
    with pytest.raises(UnknownParticipant):
        await room.router.remove("ana")
    await room.router.close()
    with pytest.raises(InvalidState):
        await room.router.add("ben")


def _aiortc_offer() -> str:
    """What aiortc's createOffer produces on its own (no gathering, no network)."""

    async def make() -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        offer = await pc.createOffer()
        await pc.close()
        return offer.sdp

    return asyncio.run(make())



async def test_keyframe_requests_a_new_subscription_promptly_the_rest_once_a_second() -> None:
    """One struggling subscriber asking 50 times a second costs its publisher one
    keyframe a second; a new subscription still gets its first within a quarter second."""
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    def spawn(coro: Any) -> None:
        coro.close()  # the PLI itself needs a real receiver: its timing is what counts
        sent.append(loop.time())

    class Video:
        kind = "video"
        receiver = None

    source = _Source(publisher="p", transceiver=Video(), stream_id="s",  # type: ignore[arg-type]
                     spawn=spawn, on_end=lambda s: None)
    source.ssrc = 1234
    start = loop.time()
    source.request_keyframe(prompt=True)  # the first subscription: at once
    while loop.time() - start < 2.2:  # a slow subscriber's flood
        source.request_keyframe()
        await asyncio.sleep(0.02)
    assert len(sent) == 3
    assert sent[0] - start < 0.05
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert all(KEYFRAME_REQUEST_INTERVAL - 0.02 <= g < KEYFRAME_REQUEST_INTERVAL + 0.1
               for g in gaps)
    # A new subscriber while the flood's next PLI is most of a second away: served
    # a quarter second after the last PLI, and the flood's one is folded into it.
    source.request_keyframe()
    source.request_keyframe(prompt=True)
    await asyncio.sleep(KEYFRAME_REQUEST_INTERVAL + 0.1)
    assert len(sent) == 4
    assert sent[3] - sent[2] < PROMPT_KEYFRAME_INTERVAL + 0.1


async def test_packets_a_publisher_rejoining_is_one_stream_for_the_subscriber() -> None:
    """Packet forwarding renumbers: the subscriber's m-line, recycled for the
    publisher's new connection, carries one SSRC with consecutive sequence numbers
    and a clock that moves on by the time away, so it counts no loss and holds
    nothing back for a timestamp in the future."""
    room = Room(forwarding="packets")
    seen: dict[str, list[tuple[int, int, int]]] = {"audio": [], "video": []}
    try:
        ana = await room.join("ana")
        await room.join("ben")
        await wait_for(lambda: ana.frames_from("ben", "video") > 0
                       and ana.frames_from("ben", "audio") > 0)
        tracks = {t.kind: t.receiver.track for t in ana.receiving()}
        media = ana.payload_types("VP8") | ana.payload_types("opus")
        for transceiver in ana.receiving():
            receiver, kind = transceiver.receiver, transceiver.kind
            handle = receiver._handle_rtp_packet

            async def spy(packet: Any, arrival_time_ms: int, *, handle: Any = handle,
                          kind: str = kind) -> None:
                if packet.payload_type in media:  # VP8 and Opus, not RTX
                    seen[kind].append((packet.ssrc, packet.sequence_number, packet.timestamp))
                await handle(packet, arrival_time_ms)

            receiver._handle_rtp_packet = spy  # type: ignore[method-assign]
        await asyncio.sleep(0.5)
        await room.leave("ben")
        await wait_for(lambda: not ana.receiving())
        await asyncio.sleep(1.0)
        before = {kind: len(packets) for kind, packets in seen.items()}
        frames = ana.frames[tracks["video"]]
        await room.join("ben")
        # The recycled m-line keeps its track: ten more frames decoded on it.
        await wait_for(lambda: ana.frames[tracks["video"]] > frames + 10)
    finally:
        await room.close()

    for kind, packets in seen.items():
        clock = 90000 if kind == "video" else 48000
        assert before[kind] > 5 and len(packets) > before[kind] + 5, kind
        assert len({ssrc for ssrc, _, _ in packets}) == 1, kind
        seqs = [seq for _, seq, _ in packets]
        assert all((b - a) % 65536 == 1 for a, b in pairwise(seqs)), kind
        steps = [(b[2] - a[2]) % 2**32 for a, b in pairwise(packets)]
        assert all(step < 2**31 for step in steps), kind  # never backwards
        # Across the gap the clock moved by about the time away (1-5 s), not at random.
        gap = steps[before[kind] - 1] / clock
        assert 1.0 <= gap < 5.0, (kind, gap)


def test_forwarding_ntp_now_reads_the_clock_as_aiortc_does() -> None:
    before, ours, after = current_ntp_time(), ntp_now(), current_ntp_time()
    slack = 1 << 22  # about a millisecond, in 32.32 fixed point
    assert before - slack <= ours <= after + slack


async def test_router_a_leave_cut_short_still_closes_the_connection() -> None:
    """A socket handler cancelled while its participant leaves (a server shutting down)
    must not leave the peer connection half closed, where aiortc's next close would
    wait forever: the close goes on, and the router's own close still returns."""
    room = Room()
    ana, ben = await room.join("ana"), await room.join("ben")
    await wait_for(lambda: ana.frames_from("ben", "video") > 0)
    pc = room.router._peers["ben"].pc
    leaving = asyncio.ensure_future(room.router.remove("ben"))
    await asyncio.sleep(0)  # the close has begun
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    await wait_for(lambda: pc.connectionState == "closed", timeout=CLOSE_TIMEOUT)
    await asyncio.wait_for(pc.close(), 1)  # a later close returns at once
    room.clients.pop("ben")
    await ben.close()
    await asyncio.wait_for(room.close(), CLOSE_TIMEOUT + 5)
