"""Pages at phone width (390 px): nothing overflows sideways, the menu folds behind a
button, tables become labelled rows; and a refused form's error summary takes focus.
Each page leaves a screenshot in test-artifacts/ (desktop and phone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conference.conferences import ConferenceStatus
from conference.decision import DecisionContent, Dissent
from conference.decision_outcomes import Outcome
from storage import agenda, conferences, decisions, users
from storage.engine import session_scope
from tests.factories import found
from tests.web.browser.conftest import LiveServer, Tab
from tests.web.browser.test_accessibility import WCAG_AA

pytestmark = pytest.mark.browser

PHONE = 390
HALE = "hale@ridgeview-clinic.example"
COORDINATOR = "coordinator@casebridge.example"
ADMIN = "admin@casebridge.example"
OKAFOR = "okafor@casebridge.example"
REQUEST, CASE, ITEM = 1, 7, 7  # the demo's scheduled request, its case and agenda item


def _sign_the_scheduled_request(server: LiveServer) -> None:
    """The chair signs the demo request's decision during the meeting, then amends it."""
    with session_scope(server.app.state.engine) as session:
        chair = found(users.find_by_email(session, OKAFOR))
        coordinator = found(users.find_by_email(session, COORDINATOR))
        conf = conferences.get_conference(session, 1)
        at = conf.starts_at + timedelta(minutes=20)
        conferences.set_status(session, actor=coordinator, conference_id=1,
                               status=ConferenceStatus.LIVE, now=at)
        agenda.record_attendance(session, item_id=ITEM, user_ids=[3, 5, 6], now=at)
        content = DecisionContent(
            outcome=Outcome.PHYSICAL_THERAPY, rationale="Improving on a home programme.",
            plan="Supervised physical therapy for six weeks; urgent review if weakness "
                 "worsens.", follow_up_weeks=6, present_user_ids=(3, 5, 6),
            responsible_clinician_id=6,
            dissent=(Dissent(user_id=5, opinion="Would repeat the MRI before therapy."),))
        draft = decisions.save_draft(session, actor=chair, item_id=ITEM, content=content,
                                     read_version=0, now=at)
        decisions.sign(session, actor=chair, item_id=ITEM, read_version=draft.version, now=at)


def _fits(tab: Tab, path: str, shot: str) -> None:
    tab.go(path)
    width = tab.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE, f"{path} is {width}px wide at {PHONE}px"
    bar = tab.page.locator("header.topbar").bounding_box()
    assert bar is not None and bar["height"] < 70, f"the top bar is {bar} on {path}"
    expect(tab.page.get_by_role("navigation", name="Main")).to_be_hidden()
    tab.shot(f"phone-{shot}")


def test_phone_width_pages_fit_and_the_menu_folds(open_page: Callable[..., Tab],
                                                 live_server: LiveServer) -> None:
    _sign_the_scheduled_request(live_server)
    coordinator = open_page(PHONE, 844)
    coordinator.sign_in(COORDINATOR)
    _fits(coordinator, f"/cases/{CASE}", "case")
    reason = coordinator.page.locator("table.revisions td[data-label=Reason]").first
    expect(reason).to_be_visible()
    assert "Reason" in reason.evaluate("cell => getComputedStyle(cell, '::before').content")
    for path, shot in (("/requests", "coordinator-requests"), ("/", "dashboard"),
                       ("/conferences/1", "conference")):
        _fits(coordinator, path, shot)

    page = coordinator.page
    page.locator("label.menu-button").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Requests")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE
    assert Axe().run(page, options=WCAG_AA).response["violations"] == []
    coordinator.shot("phone-menu-open")
    nav.get_by_role("link", name="Requests").click()
    page.wait_for_url(coordinator.base_url + "/requests")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # folded again

    clinician = open_page(PHONE, 844)
    clinician.sign_in(HALE)
    for path, shot in (("/requests", "clinician-requests"), (f"/requests/{REQUEST}", "request"),
                       (f"/requests/{REQUEST}/letter", "letter"),
                       ("/requests/new", "request-form")):
        _fits(clinician, path, shot)

    admin = open_page(PHONE, 844)
    admin.sign_in(ADMIN)
    _fits(admin, "/admin/people", "people")
    _fits(admin, "/admin/people/3", "person")


def test_desktop_keeps_the_menu_open_without_a_button(open_page: Callable[..., Tab],
                                                     live_server: LiveServer) -> None:
    _sign_the_scheduled_request(live_server)
    tab = open_page()
    tab.sign_in(HALE)
    tab.go(f"/requests/{REQUEST}/letter")
    expect(tab.page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(tab.page.locator(".menu-button")).to_be_hidden()
    tab.shot("desktop-letter")
    tab.go("/requests")
    tab.shot("desktop-clinician-requests")
    admin = open_page()
    admin.sign_in(ADMIN)
    admin.go("/admin/people")
    admin.shot("desktop-people")
    coordinator = open_page()
    coordinator.sign_in(COORDINATOR)
    coordinator.go("/requests")
    coordinator.shot("desktop-coordinator-requests")


@pytest.mark.parametrize("width", [1280, PHONE])
def test_error_summary_takes_focus_and_leads_to_each_field(open_page: Callable[..., Tab],
                                                          width: int) -> None:
    tab = open_page(width, 900)
    tab.sign_in(HALE)
    tab.go("/requests/new")
    page = tab.page
    page.fill("#f-patient_ref", "RRC-90311")
    page.fill("#f-summary", "Back pain for a year.")
    page.get_by_role("button", name="Send the request").last.click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    # The refusal's 422 is logged by the browser; that is the one message expected.
    assert [m for m in tab.problems.messages if "status of 422" not in m] == []
    tab.problems.messages.clear()
    expect(summary).to_have_attribute("role", "alert")
    for name in ("age", "sex", "question", "requested_specialties"):
        expect(summary.locator(f'a[href="#f-{name}"]')).to_be_visible()
    expect(page.locator("#f-age")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-age")).to_have_attribute("aria-describedby", "age-error")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    assert Axe().run(page, options=WCAG_AA).response["violations"] == []
    tab.shot(f"{'phone' if width == PHONE else 'desktop'}-request-form-errors")
    summary.locator('a[href="#f-question"]').click()
    expect(page.locator("#f-question")).to_be_focused()
    summary.locator('a[href="#f-requested_specialties"]').click()
    expect(page.locator("#f-requested_specialties input").first).to_be_focused()
    tab.assert_clean()
