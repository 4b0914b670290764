"""A real server and a real Chromium for browser tests.

``live_server`` serves the app with uvicorn on a free localhost port in a
background thread, over a fresh SQLite file with the demo data loaded (the
live-room tests reuse it). ``browser`` is one headless Chromium per test module;
``open_page`` gives a fresh context (own cookies) whose console errors,
uncaught exceptions and CSP violations are collected for ``assert_clean``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from starlette.applications import Starlette

from storage.demo import DEMO_PASSWORD, load_demo
from storage.engine import session_scope
from tests.ports import free_port
from tests.web.conftest import SECRET
from web.app import create_app
from web.settings import Settings

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]


@dataclass
class LiveServer:
    url: str
    app: Starlette




@pytest.fixture
def live_port() -> int:
    return free_port()


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    """What the live server runs with (a test module may override it)."""
    return Settings(database_url=database_url, secret_key=SECRET)


@pytest.fixture
def live_server(live_settings: Settings, live_port: int) -> Iterator[LiveServer]:
    app = create_app(live_settings)
    with session_scope(app.state.engine) as session:
        load_demo(session)
    port = live_port
    # websockets-sansio: the live room needs WebSockets, and this implementation
    # raises no deprecation warnings (the suite turns warnings into errors).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: while Playwright's sync API is open it holds an
    # event loop on the main thread, which would break the async tests run later.
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """Everything the browser complained about on a page."""

    messages: list[str] = field(default_factory=list)

    def console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "")
            self.messages.append(f"console error: {msg.text} ({where})")

    def page_error(self, exc: Exception) -> None:
        self.messages.append(f"uncaught: {exc}")


@dataclass
class Tab:
    page: Page
    problems: Problems
    base_url: str

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.assert_clean()

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.go("/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base_url + "/")
        self.assert_clean()

    def assert_clean(self) -> None:
        """No console errors, uncaught exceptions or CSP violations so far."""
        assert not self.problems.messages, self.problems.messages

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.assert_clean()
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)  # read by open_page on failure
    return report


@pytest.fixture
def open_page(browser: Browser, live_server: LiveServer,
              request: pytest.FixtureRequest) -> Iterator[Callable[..., Tab]]:
    """Open a new browser context (a separate person) at the live server.

    When the test fails, the last page of each context is saved as
    ``test-artifacts/FAILED-<test>-<n>.png`` to show what the browser saw.
    """
    contexts = []

    def open_tab(width: int = 1280, height: int = 900) -> Tab:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      timezone_id="America/Chicago", locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        problems = Problems()
        page.on("console", problems.console)
        page.on("pageerror", problems.page_error)
        return Tab(page, problems, live_server.url)

    yield open_tab
    report = getattr(request.node, "report_call", None)
    for n, context in enumerate(contexts):
        if report is not None and report.failed and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            context.pages[-1].screenshot(
                path=str(ARTIFACTS / f"FAILED-{request.node.name}-{n}.png"), full_page=True)
        context.close()
