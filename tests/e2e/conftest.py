"""Fixtures for the end-to-end tests: one headless Chromium per session, a fresh browser context per page.

Debian's Chromium (installed by `make setup`) is driven through Playwright; Playwright's own browser
download is not used. A missing Chromium fails the tests with a clear message instead of skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("SHAFAF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Anything slower than this is a hang, not a slow page: fail fast instead of waiting Playwright's 30 s.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Runs the browser tests after every other test of the session (order otherwise kept).

    While Playwright's sync API is running, the main thread reports a running asyncio loop (see
    `browser`), which would break any later test that checks for one (asgiref's async_to_sync, Django's
    async-unsafe guard). With the browser tests last, the session-wide browser never overlaps them.
    """
    e2e = [item for item in items if item.get_closest_marker("e2e")]
    if e2e:
        items[:] = [item for item in items if not item.get_closest_marker("e2e")] + e2e


MISSING_CHROMIUM = (
    f"Chromium is not installed at {CHROMIUM}: the end-to-end tests need it. "
    "Run `make setup` (it installs Debian's chromium package), or set SHAFAF_CHROMIUM to its path."
)


@pytest.fixture(scope="session")
def browser() -> Browser | None:
    """The session's headless Chromium; None when it is not installed (each test then fails, see open_page)."""
    if not CHROMIUM.exists():
        yield None
        return
    # Playwright's sync API drives an asyncio loop from greenlets and marks it as running in this
    # thread between calls; Django would then refuse the test's own ORM calls as "async-unsafe".
    # The test code is plain synchronous code, so the guard is lifted while the browser lives.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser, live_server):
    """open_page(locale="en-US") opens a page in a new browser context (its own cookies) on the live server.

    The page records uncaught script errors and Content-Security-Policy violations in `page.problems`.
    """
    contexts = []

    def _open(locale: str = "en-US") -> Page:
        if browser is None:
            pytest.fail(MISSING_CHROMIUM, pytrace=False)  # a failure, never a skip: `make test` must not pass
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        # The favicon request would reach Django (and the database) while the test itself queries it.
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                page.problems.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    yield _open
    for context in contexts:
        context.close()
