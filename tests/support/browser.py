"""The browser tests' Chromium: where it is, a tab on the stack's portal, and screenshots checked as pictures."""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.services import in_ci, missing_service
from tests.support.stack import Stack

VIEWPORT = {"width": 1280, "height": 900}

if TYPE_CHECKING:
    from playwright.sync_api import Page


def skip_module_without_browser() -> None:
    """Outside CI, skip the calling test module when the browser is missing (in CI `chromium` fails each test)."""
    reason = missing_browser()
    if reason is not None and not in_ci():
        missing_service(reason, module=True)


@dataclass
class Tab:
    """One page of a fresh browser context, with what the console said."""

    page: Page
    stack: Stack
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open_portal(self) -> None:
        self.page.goto(f"{self.stack.gateway}/portal/")


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


CHROMIUM = Path(os.environ.get("EPOLICY_CHROMIUM", "/usr/bin/chromium"))
