"""The patient's questionnaire on a phone, and the case page's outcome charts, in
Chromium (screenshots in test-artifacts/)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe

from storage import outcomes, users
from storage.engine import session_scope
from tests.factories import found
from tests.web.browser.conftest import ARTIFACTS, LiveServer, Tab
from tests.web.browser.test_accessibility import WCAG_AA
from web.tokens import TokenSigner

pytestmark = pytest.mark.browser

LEE = "lee@casebridge.example"
CASE = 1


def _link(server: LiveServer) -> str:
    with session_scope(server.app.state.engine) as session:
        lee = found(users.find_by_email(session, LEE))
        link = outcomes.create_link(session, actor=lee, case_id=CASE,
                                    instruments=["odi", "nrs_back"], timepoint="6_weeks")
        session.flush()
        return TokenSigner(server.app.state.settings.secret_key).issue_outcome(link)


def test_a_patient_answers_on_a_phone(open_page: Callable[..., Tab],
                                      live_server: LiveServer) -> None:
    token = _link(live_server)
    tab = open_page(width=390, height=844)
    tab.go(f"/outcomes/{token}")
    page = tab.page
    assert page.locator("h1").inner_text() == "Oswestry Disability Index"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    box = page.locator(".choice").first.bounding_box()
    assert box and box["height"] >= 44  # a target a thumb can hit
    assert Axe().run(page, options=WCAG_AA).response["violations"] == []
    tab.shot("outcome-form-390")
    for n in range(9):  # one section left blank
        page.locator(f"input[name='odi-{n}'][value='{n % 3}']").check()
    page.click("button[type=submit]")
    page.locator("h1", has_text="Back pain").wait_for()
    tab.shot("outcome-form-nrs-390")
    page.locator("input[name='nrs_back'][value='4']").check()
    page.click("button[type=submit]")
    page.locator("h1", has_text="Thank you").wait_for()
    tab.assert_clean()
    with session_scope(live_server.app.state.engine) as session:
        scores = {m.row.instrument: m.score for m in outcomes.measured(session, CASE)}
    # 0+1+2+0+1+2+0+1+2 = 9 of 9 x 5 = 45 -> 20.0 %; and the back pain rating, 4.
    assert scores == {"odi": Decimal("20.0"), "nrs_back": Decimal(4)}


def test_the_case_page_charts_outcomes(open_page: Callable[..., Tab],
                                       live_server: LiveServer) -> None:
    today = date.today()
    with session_scope(live_server.app.state.engine) as session:
        lee = found(users.find_by_email(session, LEE))
        for days, odi, leg in ((120, 48, 7), (75, 40, 6), (30, 30, 4), (2, 26, 3)):
            on = today - timedelta(days=days)
            outcomes.record(session, actor=lee, case_id=CASE, instrument="odi",
                            collected_on=on, total=odi,
                            timepoint="baseline" if days == 120 else None)
            outcomes.record(session, actor=lee, case_id=CASE, instrument="nrs_leg",
                            collected_on=on, total=leg)
    for width in (1280, 390):
        tab = open_page(width=width)
        tab.sign_in(LEE)
        tab.go(f"/cases/{CASE}#outcomes")
        charts = tab.page.locator(".outcome-chart")
        assert charts.count() == 2
        assert "a clinically important improvement" in charts.first.inner_text()
        assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= width
        tab.page.locator("#outcomes").scroll_into_view_if_needed()
        tab.page.locator("#outcomes").screenshot(
            path=str(ARTIFACTS / f"outcome-charts-{width}.png"))


def test_analytics_charts_read_at_both_widths(open_page: Callable[..., Tab],
                                              live_server: LiveServer) -> None:
    from storage.demo_history import load_history

    with session_scope(live_server.app.state.engine) as session:
        load_history(session)
    for width in (1280, 390):
        tab = open_page(width=width)
        tab.sign_in("coordinator@casebridge.example")
        tab.go("/analytics")
        assert tab.page.locator("figure.bar-chart").count() == 4
        assert "Surgery recommended" in tab.page.locator("main").inner_text()
        assert tab.page.evaluate("() => document.documentElement.scrollWidth") <= width
        tab.shot(f"analytics-{width}")
