"""Single sign-on end to end in Chromium: the sign-in page's button, the hospital's
(real) identity provider's login and consent, and back into Casebridge, signed in."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, identity_provider
from tests.web.browser.conftest import Tab
from tests.web.conftest import SECRET
from web.settings import OidcClient, Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(live_port: int) -> Iterator[Provider]:
    with identity_provider(f"http://127.0.0.1:{live_port}/auth/oidc/callback") as running:
        yield running


@pytest.fixture
def live_settings(database_url: str, provider: Provider) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, oidc=OidcClient(
        issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        name="Ridgeview Health"))


def _hospital_login(tab: Tab, provider: Provider, login: str) -> None:
    page = tab.page
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")  # the provider's consent


def _only_ours(tab: Tab, provider: Provider) -> None:
    """The provider's own development pages ask for a web font this offline machine
    cannot fetch, and a favicon it has not: Casebridge's pages must stay clean."""
    tab.problems.messages[:] = [m for m in tab.problems.messages
                                if "fonts.googleapis.com" not in m and provider.issuer not in m]


def test_a_surgeon_signs_in_with_the_hospital_account(open_page: Callable[..., Tab],
                                                      provider: Provider) -> None:
    tab = open_page()
    tab.go("/conferences/1")  # not signed in: to the sign-in page, remembering where
    tab.page.click("text=Sign in with Ridgeview Health")
    _hospital_login(tab, provider, "okafor")
    tab.page.wait_for_url(f"{tab.base_url}/conferences/1")
    _only_ours(tab, provider)
    assert "Dr. Amara Okafor" in tab.page.content()
    tab.shot("sso-signed-in")


def test_an_unknown_address_gets_a_clear_page(open_page: Callable[..., Tab],
                                              provider: Provider) -> None:
    tab = open_page(width=390, height=844)
    tab.go("/login")
    tab.shot("login-with-sso-phone")
    tab.page.click("text=Sign in with Ridgeview Health")
    _hospital_login(tab, provider, "stranger")
    tab.page.wait_for_selector("text=There is no active Casebridge account")
    _only_ours(tab, provider)
    # The refusal page is answered 403, which Chromium reports in its console.
    assert [m for m in tab.problems.messages if "/auth/oidc/callback" in m and "403" in m]
    tab.problems.messages.clear()
    assert tab.page.locator("a", has_text="Sign in with your email and password").count() == 1
    tab.shot("sso-unknown-phone")
