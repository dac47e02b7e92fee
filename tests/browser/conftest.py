"""Fixtures of the browser tests: the whole stack (`epolicy stack`) and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (`apt-get install chromium`). Without it, or without
the playwright package, the browser tests skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.checks import axe_source
from tests.support.browser import CHROMIUM, VIEWPORT, Tab, missing_browser
from tests.support.services import missing_service
from tests.support.stack import Stack, running_stack

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Headless Chromium for the session; skips (fails in CI) when it or Playwright is missing."""
    reason = missing_browser()
    if reason is not None:
        missing_service(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --lang: the browser speaks Russian (navigator.language, Accept-Language), as the portal's users do.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--lang=ru-RU"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def stack(chromium: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack on free ports, started after the browser so that a missing browser costs nothing."""
    with running_stack(tmp_path_factory.mktemp("portal-stack")) as running:
        yield running


@pytest.fixture(scope="session")
def axe() -> str:
    """axe-core's script, to be run in the pages (node_modules/axe-core); skips (fails in CI) without it."""
    return axe_source()


@pytest.fixture
def tab(chromium: Browser, stack: Stack) -> Iterator[Tab]:
    """A fresh context (no session left from another test), Russian locale; fails on script errors and CSP."""
    context = chromium.new_context(locale="ru-RU", viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    found = Tab(page, stack)

    def on_console(message: ConsoleMessage) -> None:
        found.console.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.errors.append(str(error)))
    try:
        yield found
    finally:
        context.close()
    violations = [line for line in found.console if "Content Security Policy" in line]
    assert not violations, violations
    assert not found.errors, found.errors
