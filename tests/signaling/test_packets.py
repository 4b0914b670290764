"""Packet-level forwarding's two ends in aiortc (issue 13, step 1 of
docs/design/packet-forwarding.md; the room does not use them yet): RTP packets taken
from a publisher's receiver as they arrive, rewritten and sent on another peer
connection's sender as its own, decoded by a real aiortc subscriber."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from signaling import encoded
from tests.signaling.conftest import wait_for


async def _connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection,
                   before_answer: Any = None) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    if before_answer is not None:
        before_answer()
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(RTCSessionDescription(
        sdp=answerer.localDescription.sdp, type="answer"))


async def test_packets_are_forwarded_as_they_arrive_and_decoded() -> None:
    config = RTCConfiguration(iceServers=[])
    publisher, server_in = RTCPeerConnection(config), RTCPeerConnection(config)
    server_out, subscriber = RTCPeerConnection(config), RTCPeerConnection(config)
    tapped: list[RtpPacket] = []
    decoded = 0
    sent = 0
    outgoing = server_out.addTransceiver("audio", direction="sendonly")  # no track
    state = {"seq": 1000, "offset": -1}  # offset: set from the first packet

    def forward(packet: RtpPacket) -> None:
        nonlocal sent
        tapped.append(packet)
        if outgoing.sender.transport.state != "connected" or not outgoing._codecs:
            return
        if state["offset"] < 0:
            state["offset"] = (12345 - packet.timestamp) % 2**32
        copy = RtpPacket(payload_type=encoded.payload_type(outgoing), marker=packet.marker,
                         sequence_number=state["seq"] & 0xFFFF,
                         timestamp=(packet.timestamp + state["offset"]) & 0xFFFFFFFF,
                         ssrc=outgoing.sender._ssrc, payload=packet.payload)
        copy.extensions.audio_level = packet.extensions.audio_level
        state["seq"] += 1
        encoded.PacketSender(outgoing.sender).send(copy)
        sent += 1

    async def consume(track: MediaStreamTrack) -> None:
        nonlocal decoded
        try:
            while True:
                await track.recv()
                decoded += 1
        except MediaStreamError:
            pass

    consumers: list[asyncio.Task[None]] = []
    subscriber.on("track", lambda track: consumers.append(
        asyncio.ensure_future(consume(track))))
    try:
        await _connect(server_out, subscriber)
        publisher.addTransceiver(AudioStreamTrack(), direction="sendonly")

        def tap() -> None:
            [incoming] = server_in.getTransceivers()
            encoded.tap_packets(incoming.receiver, forward)

        await _connect(publisher, server_in, before_answer=tap)
        await wait_for(lambda: decoded >= 50, timeout=20)
    finally:
        for task in consumers:
            task.cancel()
        for pc in (publisher, server_in, server_out, subscriber):
            await pc.close()

    # Packets as they arrived: one at a time, in order, nothing reassembled.
    seqs = [p.sequence_number for p in tapped]
    assert len(seqs) >= 50 and all((b - a) % 65536 == 1 for a, b in pairwise(seqs))
    assert all(p.payload for p in tapped)
    # The subscriber decoded what the server sent as its own, counted for its reports.
    assert decoded >= 50 and sent >= decoded
    stats = [s for s in (await outgoing.sender.getStats()).values()
             if s.type == "outbound-rtp"]
    assert stats and stats[0].packetsSent == sent


def test_tap_packets_refuses_a_changed_receiver() -> None:
    class NotAReceiver:
        pass

    try:
        encoded.tap_packets(NotAReceiver(), lambda packet: None)  # type: ignore[arg-type]
    except RuntimeError as exc:
        assert "aiortc changed" in str(exc)
    else:
        raise AssertionError("tapped something that is not an aiortc receiver")
