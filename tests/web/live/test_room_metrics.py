"""/metrics while a room runs: forwarded streams and bytes, signaling latency,
reconnections (read over loopback from the live server)."""

from __future__ import annotations

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from signaling.client import RoomClient
from tests.web.live.conftest import Live


async def _figures(live: Live) -> dict[str, float]:
    async with httpx2.AsyncClient() as http:
        text = (await http.get(f"http://{live.base}/metrics")).text
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if not s.labels}


async def test_metrics_follow_a_live_room(live: Live) -> None:
    chair = await live.joined("okafor")
    pt = await live.joined("lee")
    await RoomClient.wait_for(lambda: sum(chair.received_from().values()) > 5
                              and sum(pt.received_from().values()) > 5, timeout=20)
    figures = await _figures(live)
    assert figures["casebridge_rooms"] == 1 and figures["casebridge_connections"] == 2
    assert figures["casebridge_forwarded_streams"] == 4  # audio and video, each way
    assert figures["casebridge_forwarded_bytes_total"] > 1000
    assert figures["casebridge_signaling_message_seconds_count"] >= 4  # joins and offers
    assert figures["casebridge_reconnections_total"] == 0
    again = await live.joined("lee", publish=False)  # the same person, a new socket
    assert await pt.wait_closed() == 4001
    assert (await _figures(live))["casebridge_reconnections_total"] == 1
    for client in (chair, pt, again):
        await client.close()
