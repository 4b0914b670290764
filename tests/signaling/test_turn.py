"""Media through a TURN relay (issue 14): a real coturn on loopback with the TURN REST
secret, aiortc participants allowed relay candidates only, as behind a hospital firewall
that lets nothing but the relay's port out; credentials made per participant by
signaling.turn, and refused by the relay when forged or expired."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import time

import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
)

from signaling.protocol import IceServer
from signaling.turn import CREDENTIAL_LIFETIME, TurnRelay
from tests.servers import private_coturn
from tests.signaling.conftest import Room, wait_for

SECRET = "relay-shared-secret"


def test_credentials_follow_the_turn_rest_convention() -> None:
    relay = TurnRelay(urls=("turn:turn.hospital.example:3478",), secret=SECRET)
    server = relay.credential("p-42", now=1_800_000_000)
    expiry = 1_800_000_000 + int(CREDENTIAL_LIFETIME.total_seconds())
    assert server.username == f"{expiry}:p-42"
    expected = hmac.new(SECRET.encode(), server.username.encode(), hashlib.sha1).digest()
    assert server.credential == base64.b64encode(expected).decode()
    assert server.urls == ("turn:turn.hospital.example:3478",)
    assert CREDENTIAL_LIFETIME.total_seconds() <= 24 * 3600
    assert SECRET not in repr(relay)


def _relay_only(server: IceServer) -> RTCConfiguration:
    urls = [server.urls] if isinstance(server.urls, str) else list(server.urls)
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=urls, username=server.username,
                                 credential=server.credential)],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY)


def _relayed(pc: RTCPeerConnection) -> bool:
    """Whether the connection's chosen path starts at a relay candidate."""
    transport = pc.getTransceivers()[0].sender.transport.transport
    pair = transport._connection._nominated.get(1)
    return pair is not None and pair.local_candidate.type == "relay"


pytestmark = pytest.mark.skipif(shutil.which("turnserver") is None,
                                reason="TURN TEST NOT RUN: coturn is not installed "
                                       "(scripts/prepare installs it)")


async def test_media_flows_through_the_relay_with_per_participant_credentials() -> None:
    with private_coturn(SECRET) as coturn:
        relay = TurnRelay(urls=(coturn.url,), secret=SECRET)
        room = Room(forwarding="packets")
        try:
            ana = await room.join("ana", _relay_only(relay.credential("ana", time.time())))
            ben = await room.join("ben", _relay_only(relay.credential("ben", time.time())))
            await wait_for(lambda: ana.frames_from("ben", "video") > 5
                           and ben.frames_from("ana", "video") > 5
                           and ana.frames_from("ben", "audio") > 10, timeout=20)
            assert _relayed(ana.pc) and _relayed(ben.pc)
            candidates = ana.pc.getTransceivers()[0].sender.transport.transport \
                .iceGatherer.getLocalCandidates()
            assert candidates and {c.type for c in candidates} == {"relay"}
        finally:
            await room.close()


@pytest.mark.parametrize("kind", ["forged", "expired"])
async def test_the_relay_refuses_forged_and_expired_credentials(kind: str) -> None:
    with private_coturn(SECRET) as coturn:
        if kind == "forged":
            server = TurnRelay(urls=(coturn.url,), secret="guessed").credential(
                "eve", time.time())
        else:
            server = TurnRelay(urls=(coturn.url,), secret=SECRET).credential(
                "ana", time.time() - 2 * CREDENTIAL_LIFETIME.total_seconds())
        pc = RTCPeerConnection(_relay_only(server))
        try:
            pc.addTransceiver("audio")
            await pc.setLocalDescription(await pc.createOffer())
            # Gathering ends without a relay candidate: the allocation was refused.
            assert "typ relay" not in pc.localDescription.sdp
        finally:
            await pc.close()
