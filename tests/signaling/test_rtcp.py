"""RTCP through the packet-forwarding room, with real aiortc peers: a packet lost on the
way to a subscriber is repaired from the server's own cache, one lost on the way to the
server is asked of the publisher, and sender reports carry the publisher's clock so that
receivers keep audio and video in step."""

from __future__ import annotations

from typing import Any

import numpy as np
from aiortc import clock
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtp import RtcpSrPacket, RtpPacket, is_rtcp
from av import AudioFrame

from signaling import encoded
from tests.signaling.conftest import Room, wait_for


class _Noise(AudioStreamTrack):
    """Quiet noise: every Opus packet different, unlike silence."""

    async def recv(self) -> AudioFrame:
        frame = await super().recv()
        samples = np.random.default_rng().integers(-300, 300, (1, 960), dtype=np.int16)
        noisy = AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        noisy.sample_rate, noisy.pts, noisy.time_base = 48000, frame.pts, frame.time_base
        return noisy


async def test_a_packet_lost_on_the_way_to_a_subscriber_is_resent_from_the_cache() -> None:
    room = Room(forwarding="packets")
    dropped: list[int] = []
    repaired: list[int] = []
    publisher_nacks = 0
    try:
        ana = await room.join("ana")
        ben = await room.join("ben")
        await wait_for(lambda: ana.frames_from("ben", "video") > 5)
        [video] = [t for t in ana.receiving() if t.kind == "video"]
        vp8, rtx = ana.payload_types("VP8"), ana.payload_types("rtx")
        handle = video.receiver._handle_rtp_packet

        async def lossy(packet: RtpPacket, arrival_time_ms: int) -> None:
            if packet.payload_type in vp8 and not dropped and packet.sequence_number % 7 == 0:
                dropped.append(packet.sequence_number)  # lost between server and ana
                return
            if packet.payload_type in rtx:  # RFC 4588: the original seq leads the payload
                repaired.append(int.from_bytes(packet.payload[:2], "big"))
            await handle(packet, arrival_time_ms)

        video.receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]
        # ben's own sender would answer a NACK that reached him: count those.
        [ben_video] = [t for t in ben.pc.getTransceivers()
                       if t.kind == "video" and t.sender.track is not None]
        retransmit = ben_video.sender._retransmit

        async def counted(sequence_number: int) -> None:
            nonlocal publisher_nacks
            publisher_nacks += 1
            await retransmit(sequence_number)

        ben_video.sender._retransmit = counted  # type: ignore[method-assign]
        await wait_for(lambda: bool(dropped) and dropped[0] in repaired, timeout=5)
    finally:
        await room.close()
    assert publisher_nacks == 0  # the server's cache answered; ben never heard of it


async def test_a_packet_lost_on_the_way_to_the_server_is_asked_of_the_publisher() -> None:
    """What the server's cache cannot have, it never received: the server's own receiver
    NACKs the publisher for it (RFC 4585), and the retransmission, unwrapped, goes on to
    the subscriber in the place it would have had, filling the subscriber's gap."""
    room = Room(forwarding="packets")
    dropped: list[int] = []
    asked: list[int] = []
    arrived: list[int] = []  # ana's video sequence numbers as they come, RTX unwrapped
    try:
        ana = await room.join("ana")
        ben = await room.join("ben")
        await wait_for(lambda: ana.frames_from("ben", "video") > 5)
        [source] = [s for s in room.router._peers["ben"].sources.values()
                    if s.kind == "video"]
        receiving = source.transceiver.receiver
        vp8 = encoded.payload_type(source.transceiver)  # the first codec kept: VP8
        router = receiving.transport._rtp_router  # where each decrypted packet is routed
        route = router.route_rtp

        def lossy(packet: RtpPacket) -> Any:
            if (not dropped and packet.payload_type == vp8
                    and packet.sequence_number % 7 == 0):
                dropped.append(packet.sequence_number)  # lost between ben and the server
                return None
            return route(packet)

        router.route_rtp = lossy  # type: ignore[method-assign]
        [ben_video] = [t for t in ben.pc.getTransceivers()
                       if t.kind == "video" and t.sender.track is not None]
        retransmit = ben_video.sender._retransmit

        async def counted(sequence_number: int) -> None:
            asked.append(sequence_number)
            await retransmit(sequence_number)

        ben_video.sender._retransmit = counted  # type: ignore[method-assign]
        [video] = [t for t in ana.receiving() if t.kind == "video"]
        rtx = ana.payload_types("rtx")
        handle = video.receiver._handle_rtp_packet

        async def recorded(packet: RtpPacket, arrival_time_ms: int) -> None:
            arrived.append(int.from_bytes(packet.payload[:2], "big")
                           if packet.payload_type in rtx else packet.sequence_number)
            await handle(packet, arrival_time_ms)

        video.receiver._handle_rtp_packet = recorded  # type: ignore[method-assign]

        def gap_filled() -> bool:
            # A number that came after a higher one, and not twice: the repaired packet.
            return any(n < max(arrived[:at], default=n) and n not in arrived[:at]
                       for at, n in enumerate(arrived))

        await wait_for(lambda: bool(dropped) and dropped[0] in asked and gap_filled(),
                       timeout=10)
    finally:
        await room.close()
    assert asked.count(dropped[0]) >= 1  # the server asked ben, the only one who had it


async def test_sender_reports_carry_the_publishers_clock() -> None:
    """ben's clock runs 1000 s ahead of the server's. What ana's receiver is told maps
    each stream's timestamps to ben's clock, as ben's own reports do, for audio and
    video alike: that is what lip sync rests on (RFC 3550 section 6.4.1)."""
    skew = 1000 << 32
    room = Room(forwarding="packets")
    # ben's reports per kind: (NTP as sent, RTP, when by the server's clock)
    sent: dict[str, list[tuple[int, int, int]]] = {"audio": [], "video": []}
    sent_packets: dict[bytes, int] = {}  # payload -> ben's timestamp
    received: dict[str, list[tuple[int, int, int]]] = {"audio": [], "video": []}
    timestamps: dict[str, dict[int, bytes]] = {"audio": {}, "video": {}}
    try:
        ana = await room.join("ana")
        ben = await room.join("ben")
        for transceiver in ben.pc.getTransceivers():
            sender = transceiver.sender
            if sender.track is None:
                continue
            if transceiver.kind == "audio":
                sender.replaceTrack(_Noise())  # silence encodes alike: tell packets apart
            send_rtcp = sender._send_rtcp

            async def skewed(packets: list[Any], send_rtcp: Any = send_rtcp,
                             kind: str = transceiver.kind) -> None:
                for packet in packets:
                    if isinstance(packet, RtcpSrPacket):
                        packet.sender_info.ntp_timestamp += skew
                        sent[kind].append((packet.sender_info.ntp_timestamp,
                                           packet.sender_info.rtp_timestamp,
                                           clock.current_ntp_time()))
                await send_rtcp(packets)

            sender._send_rtcp = skewed  # type: ignore[method-assign]
        transport = ben.pc.getTransceivers()[0].sender.transport
        send_rtp = transport._send_rtp

        async def recorded(data: bytes) -> None:
            if not is_rtcp(data):  # the transport sends RTCP this way too
                packet = RtpPacket.parse(data)
                sent_packets[packet.payload] = packet.timestamp
            await send_rtp(data)

        transport._send_rtp = recorded  # type: ignore[method-assign]
        await wait_for(lambda: ana.frames_from("ben", "video") > 5)
        for transceiver in ana.receiving():
            receiver, kind = transceiver.receiver, transceiver.kind
            handle_rtp, handle_rtcp = receiver._handle_rtp_packet, receiver._handle_rtcp_packet

            async def on_rtp(packet: RtpPacket, arrival_time_ms: int, kind: str = kind,
                             handle: Any = handle_rtp) -> None:
                timestamps[kind][packet.timestamp] = packet.payload
                await handle(packet, arrival_time_ms)

            async def on_rtcp(packet: Any, kind: str = kind, handle: Any = handle_rtcp) -> None:
                if isinstance(packet, RtcpSrPacket):
                    info = packet.sender_info
                    received[kind].append((info.ntp_timestamp, info.rtp_timestamp,
                                           clock.current_ntp_time()))
                await handle(packet)

            receiver._handle_rtp_packet = on_rtp  # type: ignore[method-assign]
            receiver._handle_rtcp_packet = on_rtcp  # type: ignore[method-assign]
        # Until ben's first report reaches the server it can only report its own clock;
        # count the reports ana received after that.
        def reports_after_bens(kind: str) -> list[tuple[int, int, int]]:
            if not sent[kind]:
                return []
            since = sent[kind][0][2] + (1 << 32) // 10
            return [r for r in received[kind] if r[2] > since]

        await wait_for(lambda: all(len(reports_after_bens(kind)) >= 2 for kind in received),
                       timeout=15)
    finally:
        await room.close()

    for kind in received:
        rate = 90000 if kind == "video" else 48000
        for ntp, rtp, arrived in reports_after_bens(kind):
            # ben's clock, not the server's: 1000 s ahead of when the report arrived
            assert abs((ntp - arrived - skew) / 2**32) < 0.5, kind
            # and the very mapping ben reported, moved by the server's timestamp rewrite
            payload = timestamps[kind].get(rtp)
            assert payload is not None and payload in sent_packets, kind
            original = sent_packets[payload]
            # One of ben's reports maps the original timestamp to exactly this time.
            errors = [abs(report_ntp + (((original - report_rtp + 2**31) % 2**32 - 2**31)
                                        << 32) // rate - ntp) / 2**32
                      for report_ntp, report_rtp, _ in sent[kind]]
            assert min(errors) < 0.001, (kind, min(errors))
