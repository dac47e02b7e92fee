"""Fixtures of the browser tests: the whole stack (`epolicy stack`) and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (`apt-get install chromium`). Without it, or without
the playwright package, the browser tests skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import in_ci, missing_service
from tests.e2e.conftest import Stack, running_stack

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("EPOLICY_CHROMIUM", "/usr/bin/chromium"))
VIEWPORT = {"width": 1280, "height": 900}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Set to a folder to keep the screenshots the tests take (they always go to the test's tmp_path first).
SCREENSHOTS_ENV = "EPOLICY_PORTAL_SCREENSHOTS"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed"
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    return None


def skip_module_without_browser() -> None:
    """Outside CI, skip the calling test module when the browser is missing (in CI `chromium` fails each test)."""
    reason = missing_browser()
    if reason is not None and not in_ci():
        missing_service(reason, module=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Headless Chromium for the session; skips (fails in CI) when it or Playwright is missing."""
    reason = missing_browser()
    if reason is not None:
        missing_service(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --lang: date fields show dd.mm.yyyy as a Russian user sees them.
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


@dataclass
class Tab:
    """One page of a fresh browser context, with what the console said."""

    page: Page
    stack: Stack
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open_portal(self) -> None:
        self.page.goto(f"{self.stack.gateway}/portal/")


@pytest.fixture
def tab(chromium: Browser, stack: Stack) -> Iterator[Tab]:
    """A fresh context (no session left from another test), Russian locale; fails on script errors and CSP."""
    context = chromium.new_context(locale="ru-RU", viewport=VIEWPORT)
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


def save_screenshot(page: Page, path: Path) -> bytes:
    """Take a full-page PNG, check that it is a real picture, and keep a copy where SCREENSHOTS_ENV says."""
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"], (width, height)
    assert len(data) > 20_000, f"a {len(data)}-byte screenshot is too small to show the page"
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)
    return data
