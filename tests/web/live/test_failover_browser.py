"""In Chromium: two people in a room reached through the survivor (relayed to the host);
the host is killed; both pages reconnect by themselves and show video again."""

from __future__ import annotations

import asyncio
import signal

import pytest
from playwright.async_api import Browser

from tests.servers import private_redis
from tests.web.live.failover import _joined, hosted_elsewhere
from tests.web.live.test_room_browser import (
    ARTIFACTS,
    browser,
    enter_room,
    sign_in,
    wait_decoding,
)

__all__ = ["browser"]  # the fixture, shared with the other browser tests

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_browser_pages_come_back_after_their_host_is_killed(
        database_url: str, browser: Browser) -> None:
    with private_redis() as rds:
        async with hosted_elsewhere(database_url, rds.url) as pair:
            base = "http://" + pair.url_b.split("/")[2]
            conference_id = int(pair.url_b.rsplit("/", 1)[1])
            # The room opened on the host first, by a socket there.
            opener = await _joined(pair.url_a, pair.okafor)
            _, chair = await sign_in(browser, base, "brooks@casebridge.example")
            _, pain = await sign_in(browser, base, "raman@casebridge.example")
            a = await enter_room(chair, base, conference_id)
            b = await enter_room(pain, base, conference_id)
            await opener.close()
            await wait_decoding(chair, {b})
            assert not pair.survivor.state.hub.rooms  # relayed: hosted by the other
            pair.host.send_signal(signal.SIGKILL)
            for _ in range(300):  # both pages rejoin by themselves, new seats
                me_a = str(await chair.evaluate("() => window.casebridgeRoom.state.me"))
                me_b = str(await pain.evaluate("() => window.casebridgeRoom.state.me"))
                if me_a not in (a, "None", "null") and me_b not in (b, "None", "null"):
                    break
                await asyncio.sleep(0.1)
            assert me_a != a and me_b != b, "the pages did not rejoin"
            await wait_decoding(chair, {me_b})
            await wait_decoding(pain, {me_a})
            assert pair.survivor.state.hub.rooms
            await chair.screenshot(path=str(ARTIFACTS / "failover-back.png"))
