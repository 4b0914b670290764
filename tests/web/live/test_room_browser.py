"""Two, then three people in real headless Chromium hold a case review through the server."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from signaling.turn import TurnRelay
from storage.demo import DEMO_PASSWORD
from tests.factories import guest_token
from tests.servers import private_coturn
from tests.web.live.conftest import Live

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "room"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

# framesDecoded per remote participant, read from RTCPeerConnection.getStats().
DECODED_BY_PARTICIPANT = """
async () => {
  const room = window.casebridgeRoom;
  const stats = await room.stats();
  const peer = room.state.peer;
  if (!stats || !peer) return {};
  const byMid = {};
  for (const t of peer.pc.getTransceivers()) byMid[t.mid] = t;
  const out = {};
  stats.forEach((report) => {
    if (report.type !== "inbound-rtp" || report.kind !== "video") return;
    const transceiver = byMid[report.mid];
    const stream = transceiver && transceiver.receiver.track &&
      [...peer.streams.keys()].find((id) => {
        const sdp = peer.pc.remoteDescription.sdp;
        const section = sdp.split("\\r\\nm=").find((m) => m.includes(`a=mid:${report.mid}\\r\\n`));
        return section && section.includes(`a=msid:${id} `);
      });
    const who = stream && peer.streams.get(stream);
    if (who && transceiver.currentDirection !== "inactive") {
      out[who] = (out[who] || 0) + (report.framesDecoded || 0);
    }
  });
  return out;
}
"""

PEER_STATE = """() => {
  const peer = window.casebridgeRoom.state.peer;
  if (!peer) return "no peer connection";
  return {connection: peer.pc.connectionState, signaling: peer.pc.signalingState,
          streams: [...peer.streams.entries()],
          transceivers: peer.pc.getTransceivers().map((t) => [t.mid, t.currentDirection])};
}"""


INBOUND_TOTAL = """async ([kind, field]) => {
  let n = 0;
  (await window.casebridgeRoom.stats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === kind) n += r[field] || 0;
  });
  return n;
}"""


async def inbound_total(page: Page, kind: str, field: str) -> int:
    """One statistic of every inbound stream of ``kind``, added up (getStats)."""
    return int(await page.evaluate(INBOUND_TOTAL, [kind, field]))


async def sign_in(browser: Browser, base: str, email: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    return context, page


async def enter_room(page: Page, base: str, conference_id: int) -> str:
    await page.goto(f"{base}/conferences/{conference_id}/room")
    # Polled with evaluate: wait_for_function compiles strings, which our CSP forbids.
    for _ in range(100):
        if await page.evaluate("() => document.getElementById('preview').srcObject !== null"):
            break
        await asyncio.sleep(0.1)
    await page.click("#join")
    await page.wait_for_selector("#stage:not([hidden])")
    return str(await page.evaluate("window.casebridgeRoom.state.me"))


async def decoded(page: Page) -> dict[str, int]:
    return dict(await page.evaluate(DECODED_BY_PARTICIPANT.strip()))


async def wait_decoding(page: Page, expected: set[str], timeout: float = 25.0) -> dict[str, int]:
    """Wait until ``page`` decodes rising video from exactly ``expected``."""
    deadline = asyncio.get_running_loop().time() + timeout
    first: dict[str, int] = {}
    while True:
        now = await decoded(page)
        live = {p for p, n in now.items() if n > first.get(p, 0) > 0}
        if set(now) == expected and live == expected:
            return now
        first = {p: max(first.get(p, 0), n) for p, n in now.items()} or first
        if asyncio.get_running_loop().time() > deadline:
            state = await page.evaluate(PEER_STATE)
            raise AssertionError(f"decoding {now}, expected rising video from {expected}; "
                                 f"peer: {state}; console: {page.errors[-5:]}")  # type: ignore[attr-defined]
        await asyncio.sleep(0.7)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path="/usr/bin/chromium",
                                           args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def chair_and_colleague(live: Live, browser: Browser,
                              colleague: str = "raman@casebridge.example",
                              ) -> tuple[Page, str, Page, str]:
    """The chair and a colleague (the pain specialist unless said) in the room, each
    decoding the other's video: (chair's page, chair's participant id, colleague's
    page, colleague's id)."""
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    _, pain = await sign_in(browser, base, colleague)
    a = await enter_room(chair, base, live.conference_id)
    b = await enter_room(pain, base, live.conference_id)
    await wait_decoding(chair, {b})
    await wait_decoding(pain, {a})
    return chair, a, pain, b


async def test_browser_two_then_three_people_see_each_other(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    chair, a, pain, b = await chair_and_colleague(live, browser)
    ctx_a, ctx_b = chair.context, pain.context
    await chair.click(f"button.advance[data-item-id='{live.item_ids[0]}']")
    await pain.wait_for_selector(f".case-brief[data-item-id='{live.item_ids[0]}']:visible")
    await chair.screenshot(path=str(ARTIFACTS / "1-two-people.png"))

    ctx_c, pt = await sign_in(browser, base, "lee@casebridge.example")
    c = await enter_room(pt, base, live.conference_id)
    await wait_decoding(pt, {a, b})
    await wait_decoding(chair, {b, c})
    await pain.click("#leave")
    await wait_decoding(chair, {c})
    await wait_decoding(pt, {a})
    labels = await chair.locator(".video-tile .label").all_inner_texts()
    assert any("Jordan Lee" in text and "Physical therapy" in text for text in labels)
    # The specialty and the conference role by the labels the page serves (room_labels).
    assert "Dr. Amara Okafor (you) · Neurosurgery · Chair" in labels
    assert not any("Raman" in text for text in labels)
    await chair.screenshot(path=str(ARTIFACTS / "2-after-renegotiation.png"))
    for page in (chair, pain, pt):
        assert not [e for e in page.errors  # type: ignore[attr-defined]
                    if "Content Security Policy" in e or "room:" in e]
    for context in (ctx_a, ctx_b, ctx_c):
        await context.close()


async def test_browser_reconnects_to_the_same_seat_after_a_drop(live: Live, browser: Browser
                                                                ) -> None:
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    _, pain = await sign_in(browser, base, "raman@casebridge.example")
    a = await enter_room(chair, base, live.conference_id)
    b = await enter_room(pain, base, live.conference_id)
    await wait_decoding(chair, {b})
    room = live.app.state.hub.rooms[live.conference_id]
    # The server drops the chair's socket, as a restart or a lost link would.
    await room.connections[a].transport.close(1012)
    for _ in range(100):
        again = str(await chair.evaluate("() => window.casebridgeRoom.state.me"))
        if again != a and await chair.evaluate(
                "() => window.casebridgeRoom.state.peer !== null"):
            break
        await asyncio.sleep(0.1)
    assert again != a, "the page did not rejoin"
    await wait_decoding(chair, {b})
    await wait_decoding(pain, {again})
    assert await pain.locator(".video-tile").count() == 2  # one seat each, no ghost
    assert "Connected" in await chair.locator("#connection").inner_text()


async def test_browser_low_bandwidth_mode_receives_no_video(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    _, rural = await sign_in(browser, base, "petrova@casebridge.example")
    a = await enter_room(chair, base, live.conference_id)
    await rural.goto(f"{base}/conferences/{live.conference_id}/room")
    await rural.check("#no-remote-video")
    await rural.check("#audio-only")
    await asyncio.sleep(1.0)
    await rural.click("#join")
    await rural.wait_for_selector("#stage:not([hidden])")
    for _ in range(100):
        if await inbound_total(rural, "audio", "packetsReceived") > 50:
            break
        await asyncio.sleep(0.2)
    assert await inbound_total(rural, "audio", "packetsReceived") > 50, "no audio reached"
    assert await decoded(rural) == {}
    assert await decoded(chair) == {}  # audio only: nothing to decode from them
    await chair.locator(".video-tile.no-video").wait_for()  # shown as initials
    me = str(await rural.evaluate("() => window.casebridgeRoom.state.me"))
    peer = live.app.state.hub.rooms[live.conference_id].router._peers[me]
    assert [o for o in peer.outlets if o.kind == "video"]  # offered to them...
    assert not [o for o in peer.outlets if o.kind == "video" and o.active]  # ...declined
    assert a != me


async def test_browser_video_paused_for_a_poor_connection_says_so_and_comes_back(
        live: Live, browser: Browser) -> None:
    """What the server does for a link that cannot carry a video (signaling.downlink),
    done by hand: Chrome is told, the tile says so, and the picture comes back from a
    keyframe when the stream resumes, its numbering continuous."""
    _, a, rural, me = await chair_and_colleague(live, browser, "petrova@casebridge.example")
    router = live.app.state.hub.rooms[live.conference_id].router
    peer = router._peers[me]
    [outlet] = [o for o in peer.outlets if o.kind == "video" and o.active]
    flag = rural.locator(".video-tile.video-paused .paused-flag")

    outlet.pause(True)
    router._tell_paused(peer)
    await flag.wait_for()
    assert await flag.inner_text() == "Video paused: poor connection"
    frozen = (await decoded(rural)).get(a, 0)
    await asyncio.sleep(1.5)
    assert (await decoded(rural)).get(a, 0) <= frozen + 2  # nothing more arrives
    await rural.screenshot(path=str(ARTIFACTS / "video-paused.png"))

    outlet.pause(False)
    router._tell_paused(peer)
    await flag.wait_for(state="hidden")
    await wait_decoding(rural, {a})


async def frame_rate(page: Page, who: str, seconds: float = 3.0) -> float:
    """Frames of ``who``'s video decoded per second on ``page``."""
    before = (await decoded(page)).get(who, 0)
    await asyncio.sleep(seconds)
    return ((await decoded(page)).get(who, 0) - before) / seconds


async def test_browser_video_in_temporal_layers_for_a_thin_link(
        live: Live, browser: Browser) -> None:
    """Chrome sends its camera in three temporal layers (L1T3); the server sends one
    subscriber layers 0-1, then layer 0 only, as it does for a link that cannot carry
    the whole stream (signaling.downlink): fewer frames, every one decoded, no freeze;
    then all of them again from a base-layer frame, without a keyframe."""
    _, a, rural, me = await chair_and_colleague(live, browser, "petrova@casebridge.example")
    router = live.app.state.hub.rooms[live.conference_id].router
    [outlet] = [o for o in router._peers[me].outlets if o.kind == "video" and o.active]
    loop = asyncio.get_running_loop()
    assert outlet.source is not None
    for _ in range(50):
        shares = outlet.source.layers.shares(loop.time())
        if len(shares) == 3:
            break
        await asyncio.sleep(0.2)
    assert len(shares) == 3 and shares[0] < shares[1] < shares[2] == 1.0, shares
    await asyncio.sleep(2)  # past the start's keyframes and rate ramp
    full = await frame_rate(rural, a)
    freezes = await inbound_total(rural, "video", "freezeCount")
    rates = {}
    for top in (1, 0, None):
        outlet.set_top_layer(top)
        await asyncio.sleep(1)  # an upward step waits for a layer-0 frame
        rates[top] = await frame_rate(rural, a)
    (ARTIFACTS / "temporal-layers.json").write_text(json.dumps(
        {"shares": shares, "fps_all": full, "fps_layers_0_1": rates[1], "fps_layer_0": rates[0],
         "fps_all_again": rates[None]}))
    assert full >= 10, full
    assert 0.35 * full <= rates[1] <= 0.65 * full, (full, rates)
    assert 0.15 * full <= rates[0] <= 0.35 * full, (full, rates)
    assert rates[None] >= 0.8 * full, (full, rates)
    assert await inbound_total(rural, "video", "freezeCount") == freezes  # lighter, not frozen


RELAYED = """async () => {
  const stats = await window.casebridgeRoom.stats();
  const types = [];
  stats.forEach((r) => {
    if (r.type === "candidate-pair" && r.state === "succeeded" && r.nominated) {
      types.push(stats.get(r.localCandidateId).candidateType);
    }
  });
  return types;
}"""


@pytest.mark.skipif(shutil.which("turnserver") is None,
                    reason="TURN TEST NOT RUN: coturn is not installed (scripts/prepare)")
async def test_browser_media_through_a_turn_relay_only(live: Live, browser: Browser) -> None:
    """As behind a firewall that lets nothing out but the relay: Chrome told to use
    relay candidates only (CASEBRIDGE_ICE_TRANSPORT_POLICY=relay), with credentials
    made for each participant, still holds the call through a real coturn."""
    secret = "browser-relay-secret"
    with private_coturn(secret) as coturn:
        hub = live.app.state.hub
        hub.turn = TurnRelay(urls=(coturn.url,), secret=secret)
        hub.ice_transport_policy = "relay"
        chair, _, pain, _ = await chair_and_colleague(live, browser)
        assert await chair.evaluate(RELAYED) == ["relay"]
        assert await pain.evaluate(RELAYED) == ["relay"]


async def test_browser_guest_waits_in_the_lobby_until_the_chair_admits(live: Live, browser: Browser
                                                                       ) -> None:
    base = f"http://{live.base}"
    token = guest_token(live.app, item_id=live.item_ids[-1], name="Dr. Hale")
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    a = await enter_room(chair, base, live.conference_id)
    guest_ctx = await browser.new_context()
    guest = await guest_ctx.new_page()
    await guest.goto(f"{base}/conferences/{live.conference_id}/room?token={token}")
    await asyncio.sleep(1.0)
    await guest.click("#join")
    await guest.wait_for_selector("#lobby:not([hidden])")
    assert await guest.locator("#lobby-position").inner_text() == "1"
    await chair.locator("#waiting li").wait_for()
    assert "Dr. Hale" in await chair.locator("#waiting").inner_text()  # the link's name
    await chair.screenshot(path=str(ARTIFACTS / "3-guest-waiting.png"))
    # A guest takes part in their own case only: the chair brings it up, then admits.
    await chair.click(f"button.advance[data-item-id='{live.item_ids[-1]}']")
    admit = chair.locator("#waiting button", has_text="Admit")
    await admit.wait_for()
    assert not await guest.locator("#lobby").is_hidden()
    await admit.click()
    await guest.wait_for_selector("#stage:not([hidden])")
    g = str(await guest.evaluate("() => window.casebridgeRoom.state.me"))
    await wait_decoding(chair, {g})
    await wait_decoding(guest, {a})
    assert await guest.locator(".case-brief").count() == 1  # only their case
    assert await guest.locator("button.advance").count() == 0


async def test_browser_room_shows_a_decision_signed_elsewhere(live: Live, browser: Browser) -> None:
    from tests.web.live.test_room_socket import _sign_over_api

    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    item = live.item_ids[0]
    await chair.click(f"button.advance[data-item-id='{item}']")
    await chair.wait_for_selector(f".case-brief[data-item-id='{item}']:visible")
    await _sign_over_api(base, live.token("okafor"), item, [live.users["okafor"]])
    note = chair.locator(f".case-brief[data-item-id='{item}'] .signed-note")
    await note.wait_for()
    assert await note.inner_text() == "Decision signed: Physical therapy"
    mark = chair.locator(f".room-agenda li[data-item-id='{item}'] .signed-mark")
    assert "decided" in await mark.inner_text()


async def test_browser_agenda_refreshes_when_a_case_is_added(live: Live, browser: Browser) -> None:
    import httpx2

    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    headers = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=base, headers=headers) as api:
        case = await api.post("/api/v1/cases", json={
            "patient_ref": "SPN-2026-0777", "age": 61, "sex": "male",
            "summary": "Adjacent segment disease above an L4-5 fusion.",
            "question": "Extend the fusion or manage conservatively?"})
        item = await api.post(f"/api/v1/conferences/{live.conference_id}/agenda",
                              json={"case_id": case.json()["id"], "planned_minutes": 15})
    new_id = item.json()["id"]
    button = chair.locator(f"button.advance[data-item-id='{new_id}']")
    await button.wait_for()  # appeared without reloading the page
    await button.click()
    brief = chair.locator(f".case-brief[data-item-id='{new_id}']")
    await brief.wait_for(state="visible")
    assert "Extend the fusion" in await brief.inner_text()
