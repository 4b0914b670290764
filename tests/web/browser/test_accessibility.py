"""axe-core (WCAG 2 A and AA rules, colour contrast included) on the pages people use most."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.web.browser.conftest import Tab

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}

PAGES = {
    "coordinator@casebridge.example": ["/", "/conferences/1", "/conferences/new", "/cases/2",
                                       "/cases/new", "/requests"],
    "okafor@casebridge.example": ["/", "/cases/1", "/cases/7", "/conferences/1/room"],
    "hale@ridgeview-clinic.example": ["/", "/requests/new", "/requests/1"],
    "admin@casebridge.example": ["/admin/people", "/admin/people/3"],
}


def _violations(tab: Tab) -> list[str]:
    results = Axe().run(tab.page, options=WCAG_AA)
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{[n['target'] for n in v['nodes'][:3]]}" for v in results.response["violations"]]


@pytest.mark.parametrize("email", list(PAGES))
def test_accessibility_wcag_aa(open_page: Callable[..., Tab], email: str) -> None:
    tab = open_page()
    tab.sign_in(email)
    found = {}
    for path in PAGES[email]:
        tab.go(path)
        problems = _violations(tab)
        if problems:
            found[path] = problems
    assert found == {}


def test_accessibility_login_page(open_page: Callable[..., Tab]) -> None:
    tab = open_page()
    tab.go("/login")
    assert _violations(tab) == []


def test_accessibility_check_catches_an_unlabelled_field(open_page: Callable[..., Tab]) -> None:
    tab = open_page()
    tab.go("/login")
    tab.page.evaluate(
        "() => document.querySelector('form').append(document.createElement('input'))")
    assert any(v.startswith("label ") for v in _violations(tab))
