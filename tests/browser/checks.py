"""What every page of the portal is held to in the browser: axe-core finds no violation on it, and on a phone
(390 px wide) nothing scrolls sideways. Both leave a screenshot, kept where EPOLICY_PORTAL_SCREENSHOTS says."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.browser import PNG_SIGNATURE, SCREENSHOTS_ENV, save_screenshot
from tests.support.services import missing_service

if TYPE_CHECKING:
    from playwright.sync_api import Page

# node_modules/axe-core, pinned in package.json and installed by `make node_modules/.installed`.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.map((node) => node.target.join(" ")) }));
}"""


def axe_source() -> str:
    """The text of axe-core's script; skips (fails in CI) when node_modules lacks it."""
    if not AXE.is_file():
        missing_service(f"{AXE} is missing: run `make node_modules/.installed`")
    return AXE.read_text(encoding="utf-8")


def violations(page: Page, axe: str) -> list[dict[str, Any]]:
    """What axe-core finds wrong with the page as it is now."""
    # Evaluated over the DevTools protocol, so the page's CSP (no script but the gateway's) lets it in unchanged.
    page.evaluate(axe)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def inspect(page: Page, axe: str, path: Path) -> None:
    """axe-core finds nothing on the page; on a phone it fits the screen. Screenshots of both widths are kept."""
    found = violations(page, axe)
    assert found == [], f"{path.stem}: {found}"
    save_screenshot(page, path)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")
        scroll, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{path.stem}: {scroll} px wide on a {client} px screen"
        _save_phone_screenshot(page, path.with_name(f"{path.stem}-390{path.suffix}"))
    finally:
        if size is not None:
            page.set_viewport_size(size)


def _save_phone_screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    assert int.from_bytes(data[16:20], "big") == PHONE["width"]
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)
