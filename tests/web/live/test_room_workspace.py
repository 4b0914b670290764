"""The room as the chair's workspace, in real Chromium: the current case with its
history and imaging, the timer against the planned minutes, "Next case", the decision
recorded and signed without leaving; guests kept to their case; phone width."""

from __future__ import annotations

import asyncio
import re

import httpx2
import pytest
from playwright.async_api import Browser, Page
from sqlmodel import select

from conference.conferences import ConferenceStatus
from storage.engine import session_scope
from storage.tables import Conference, GuestLink
from tests.factories import guest_token
from tests.web.live.conftest import Live
from tests.web.live.test_room_browser import ARTIFACTS, browser, enter_room, sign_in

__all__ = ["browser"]  # the fixture, shared with the other browser tests

pytestmark = pytest.mark.browser


def _go_live(live: Live) -> None:
    # The meeting under way, as the chair opens it (set directly: this test is about
    # the room, not the rules for opening it).
    with session_scope(live.app.state.engine) as session:
        conf = session.exec(select(Conference)).one()
        conf.status = ConferenceStatus.LIVE
        session.add(conf)


async def _current(page: Page, item_id: int) -> None:
    await page.wait_for_selector(f".case-brief[data-item-id='{item_id}']:visible")


async def test_before_joining_no_call_controls_show(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await chair.goto(f"{base}/conferences/{live.conference_id}/room")
    await chair.wait_for_selector("#join:visible")
    for selector in ("#stage", "#mute", "#leave", "button.advance", ".room-agenda"):
        assert not await chair.locator(selector).first.is_visible(), selector
    await chair.screenshot(path=str(ARTIFACTS / "workspace-precheck.png"))


async def test_the_current_case_panel_timer_and_next_case(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    first, second = live.item_ids[0], live.item_ids[1]
    await chair.click(f"button.advance[data-item-id='{first}']")
    await _current(chair, first)
    brief = chair.locator(f".case-brief[data-item-id='{first}']")
    text = await brief.inner_text()
    assert "Range of motion has plateaued in PT" in text  # the question
    assert "Naproxen 500 mg twice daily" in text and "McKenzie" in text  # history of care
    assert "Added by the coordinators" in text
    imaging = brief.locator(".brief-imaging a")
    assert await imaging.get_attribute("target") == "_blank"
    href = await imaging.get_attribute("href") or ""
    assert "pacs.example-hospital.org/viewer/SPN-2026-0117" in href
    timer = brief.locator("[data-timer]")
    assert re.fullmatch(r"0 of 10 min", await timer.inner_text())
    # Eight of ten minutes: amber, and the words say so too; then red.
    steps = ((8.2, "late", "2 min left"), (12.5, "over", "Over time: 12 of 10 min"))
    for minutes, level, words in steps:
        await chair.evaluate(f"""() => {{
            const room = window.casebridgeRoom;
            room.state.startedAt = new Date(Date.now() - {minutes} * 60000);
            room.tick();
        }}""")
        assert await timer.get_attribute("data-level") == level
        assert words in await timer.inner_text()
        await chair.screenshot(path=str(ARTIFACTS / f"workspace-timer-{level}.png"))
    await brief.locator("button.next-case").click()
    await _current(chair, second)
    assert await chair.locator(f".room-agenda li[data-item-id='{second}']").get_attribute(
        "aria-current") == "step"
    referral = await chair.locator(f".case-brief[data-item-id='{live.item_ids[-1]}'] .referral"
                                   ).inner_text()
    assert "Referred by Dr. Martha Hale" in referral
    assert "neurosurgery" in referral and "physical therapy" in referral


async def test_the_chair_records_and_signs_the_decision_in_the_room(live: Live, browser: Browser
                                                                    ) -> None:
    base = f"http://{live.base}"
    _go_live(live)
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    item = live.item_ids[0]
    await chair.click(f"button.advance[data-item-id='{item}']")
    await _current(chair, item)
    form = chair.locator(f"form.room-decision[data-item-id='{item}']")
    await form.locator(".decision-state", has_text="No draft yet").wait_for()
    # Everything missing is said at once, before anything is sent.
    await form.locator("button[value=save]").click()
    error = form.locator(".decision-error")
    assert await error.inner_text() == ("Choose the panel's recommendation. Write the rationale. "
                                        "Write the plan.")
    # A surgical recommendation with no non-surgical specialist present: the server's
    # own words, shown as they come.
    await form.locator("select[name=outcome]").select_option("surgery_recommended")
    await form.locator("textarea[name=rationale]").fill("Plateau despite full conservative care.")
    await form.locator("textarea[name=plan]").fill("Refer for surgical opinion.")
    await form.locator("button[value=sign]").click()
    assert await error.inner_text() == "Tick the confirmation to sign."
    await form.locator("input[name=confirm]").check()
    await form.locator("button[value=sign]").click()
    await form.locator(".decision-state", has_text="Draft v1").wait_for()
    async with httpx2.AsyncClient(base_url=base, headers={
            "Authorization": f"Bearer {live.token('okafor')}"}) as api:
        refused = await api.post(f"/api/v1/agenda-items/{item}/decision/sign")
    assert refused.status_code == 409
    await error.wait_for()
    assert await error.inner_text() == refused.json()["error"]["message"]
    assert "Dr. Amara Okafor" in await form.locator(".present-names").inner_text()
    await chair.screenshot(path=str(ARTIFACTS / "workspace-decision-refused.png"), full_page=True)
    # Physical therapy needs only the chair: signed from the room.
    await form.locator("select[name=outcome]").select_option("physical_therapy")
    await form.locator("button[value=sign]").click()
    await form.locator(".decision-state", has_text="Signed").wait_for()
    assert await form.locator("select[name=outcome]").is_disabled()
    note = chair.locator(f".case-brief[data-item-id='{item}'] .signed-note")
    await note.wait_for()
    assert "Physical therapy" in await note.inner_text()


async def _guest_page(browser: Browser, base: str, conference_id: int, token: str,
                      width: int = 1280) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    guest = await context.new_page()
    await guest.goto(f"{base}/conferences/{conference_id}/room?token={token}")
    await asyncio.sleep(0.8)
    await guest.click("#join")
    await guest.wait_for_selector("#lobby:not([hidden])")
    return guest


async def test_a_guest_waits_for_their_case_and_leaves_to_an_ended_page(
        live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    theirs, other = live.item_ids[-1], live.item_ids[0]
    token = guest_token(live.app, item_id=theirs, name="Dr. Hale")
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    guest = await _guest_page(browser, base, live.conference_id, token, width=390)
    waiting = chair.locator("#waiting li")
    await waiting.wait_for()
    assert "Dr. Hale · waits for RRC-88412" in await waiting.inner_text()
    assert await waiting.locator("button", has_text="Admit").count() == 0  # not their case yet
    await guest.screenshot(path=str(ARTIFACTS / "workspace-guest-lobby-390.png"))
    await chair.click(f"button.advance[data-item-id='{theirs}']")
    admit = waiting.locator("button", has_text="Admit")
    await admit.wait_for()
    assert "under discussion now" in await waiting.inner_text()
    await admit.click()
    await guest.wait_for_selector("#stage:not([hidden])")
    # In the room: their case only, no agenda, no screen share.
    assert await guest.locator(".room-agenda").count() == 0
    assert await guest.locator("#share").count() == 0
    assert await guest.locator(".case-brief").count() == 1
    assert await guest.locator("form.room-decision").count() == 0
    await guest.screenshot(path=str(ARTIFACTS / "workspace-guest-in-390.png"), full_page=True)
    # The chair moves on: back to the lobby, told why, and the call torn down.
    await chair.click(f"button.advance[data-item-id='{other}']")
    await guest.wait_for_selector("#lobby:not([hidden])")
    reason = await guest.locator("#lobby-reason").inner_text()
    assert "not discussing your patient right now" in reason
    assert not await guest.locator("#stage").is_visible()
    assert await guest.evaluate("() => window.casebridgeRoom.state.peer") is None
    # Their case again: admitted before for it, so back in without the chair.
    await chair.click(f"button.advance[data-item-id='{theirs}']")
    await guest.wait_for_selector("#stage:not([hidden])")
    await guest.click("#leave")
    await guest.wait_for_url(re.compile(r".*/meeting-ended\?reason=left.*"))
    assert await guest.locator("h1").inner_text() == "You have left the meeting"


async def test_a_revoked_guest_is_told_the_meeting_ended(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    token = guest_token(live.app, item_id=live.item_ids[-1], name="Dr. Hale")
    guest = await _guest_page(browser, base, live.conference_id, token)
    with session_scope(live.app.state.engine) as session:
        link_id = session.exec(select(GuestLink.id)).one()
    async with httpx2.AsyncClient(base_url=base, headers={
            "Authorization": f"Bearer {live.token('coordinator')}"}) as api:
        assert (await api.delete(f"/api/v1/guest-links/{link_id}")).status_code in (200, 204)
    await guest.wait_for_url(re.compile(r".*/meeting-ended\?reason=revoked.*"))
    assert "withdrawn or has expired" in await guest.locator("main").inner_text()


async def test_at_phone_width_the_case_comes_before_the_video(live: Live, browser: Browser
                                                               ) -> None:
    base = f"http://{live.base}"
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    chair = await context.new_page()
    await chair.goto(f"{base}/login")
    await chair.fill("input[name=email]", "okafor@casebridge.example")
    from storage.demo import DEMO_PASSWORD

    await chair.fill("input[name=password]", DEMO_PASSWORD)
    await chair.click("button[type=submit]")
    await chair.wait_for_url(f"{base}/")
    await enter_room(chair, base, live.conference_id)
    item = live.item_ids[0]
    await chair.click(f"button.advance[data-item-id='{item}']")
    await _current(chair, item)
    case_box = await chair.locator(".current-case").bounding_box()
    grid_box = await chair.locator("#grid").bounding_box()
    assert case_box and grid_box and case_box["y"] < grid_box["y"]
    assert case_box["width"] <= 390
    assert await chair.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert await chair.locator("#mute").is_visible()  # the controls stay at hand
    await chair.screenshot(path=str(ARTIFACTS / "workspace-chair-390.png"))
    await chair.screenshot(path=str(ARTIFACTS / "workspace-chair-390-full.png"), full_page=True)


async def test_chat_typed_by_one_is_seen_by_the_other(live: Live, browser: Browser) -> None:
    base = f"http://{live.base}"
    _, chair = await sign_in(browser, base, "okafor@casebridge.example")
    _, pain = await sign_in(browser, base, "raman@casebridge.example")
    await enter_room(chair, base, live.conference_id)
    await enter_room(pain, base, live.conference_id)
    item = live.item_ids[0]
    await chair.click(f"button.advance[data-item-id='{item}']")
    await _current(pain, item)
    await pain.fill("#chat-body", "Blocks first: <b>not</b> surgery. https://pacs.example/2")
    await pain.press("#chat-body", "Enter")
    line = chair.locator("#chat-lines li").last
    await line.wait_for()
    assert "Dr. Priya Raman" in await line.inner_text()
    assert "Blocks first: <b>not</b> surgery." in await line.inner_text()  # text, not markup
    assert await line.locator("a").get_attribute("href") == "https://pacs.example/2"
    assert await pain.input_value("#chat-body") == ""
    # Kept in the case's thread: a page opened later loads it.
    await chair.reload()
    await chair.click("#join")
    await chair.locator("#chat-lines li", has_text="Blocks first").wait_for()
    await chair.screenshot(path=str(ARTIFACTS / "workspace-chat.png"))
