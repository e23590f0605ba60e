"""The web page in a real browser: Debian's chromium, driven by Playwright, against a real ragstore server.

Chromium comes from the system (`make browser` installs it); Playwright never downloads a browser of its own.
Every test fails if the page throws, or asks for anything outside the ragstore server (the page works offline).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from ragstore.worker import Worker, ingestion_tasks
from tests.api.conftest import (
    API_KEY,
    Server,
    start_server,  # noqa: F401 - the fixture, shared with tests/api
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Where the views' screenshots go: a temporary folder, so that a test run leaves the checkout clean; the README's
# come from `RAGSTORE_SCREENSHOT_DIR=docs/screenshots make test`.
SCREENSHOTS = Path(os.environ.get("RAGSTORE_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "ragstore-screenshots")
VIEWPORT = {"width": 1280, "height": 800}

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@dataclass
class UI:
    """A browser tab on one ragstore server."""

    page: Page
    server: Server

    def open(self, route: str = "#/stores", key: str | None = API_KEY) -> Page:
        """Load the page at a route; with a key, enter it in the header as a user would."""
        self.page.goto(f"{self.server.url}/ui/{route}")
        if key is not None:
            self.page.get_by_label("API key").fill(key)
            self.page.get_by_role("button", name="Use key").click()
        return self.page

    def drain(self) -> None:
        """Run every queued ingestion job now (for servers started with workers=0)."""
        runtime = self.server.app.state.runtime
        Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain()

    def screenshot(self, name: str, full_page: bool = False) -> None:
        """Save the top of the view (or all of it) as NAME.png in SCREENSHOTS."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)

    def fits_width(self) -> bool:
        """Nothing sticks out sideways: the page needs no horizontal scrolling."""
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def open_ui(browser: Browser) -> Iterator:
    """Open the page of a server in a fresh browser context (its own session storage)."""
    pages: list[tuple[Page, list[str], list[str]]] = []

    def open_page(server: Server, viewport: dict[str, int] = VIEWPORT) -> UI:
        context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="UTC")
        page = context.new_page()
        errors: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Any console error fails the test too, but for the browser's own line on an HTTP error status: the tests
        # provoke those on purpose (a wrong key, a deleted store), and the page shows them in its banner.
        page.on("console", lambda message: errors.append(message.text) if _console_error(message) else None)
        page.on("request", lambda request: outside.append(request.url) if not _local(request.url, server) else None)
        pages.append((page, errors, outside))
        return UI(page, server)

    yield open_page
    for page, errors, outside in pages:
        page.context.close()
        assert errors == [], "the page threw or logged an error"
        assert outside == [], "the page asked for something outside ragstore"


def _console_error(message: ConsoleMessage) -> bool:
    return message.type == "error" and not message.text.startswith("Failed to load resource:")


def _local(url: str, server: Server) -> bool:
    # blob: URLs are made by the page itself from what it holds (Swagger UI's logo), under the server's origin.
    return url.startswith((f"{server.url}/", f"blob:{server.url}/", "data:"))
