"""/docs in a real headless Chromium: Swagger UI 5 renders the OpenAPI 3.1 document under the page's strict CSP.

The gateway runs in this process on a free port with fakes behind it; the page needs nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from werkzeug.serving import make_server

import contracts
from gateway.app import create_app
from gateway.catalogue import Catalogue
from tests.support.browser import VIEWPORT, skip_module_without_browser
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

skip_module_without_browser()
from playwright.sync_api import (  # noqa: E402  -- the package is a dev dependency
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Route,
    ViewportSize,
    expect,
)

# The tests talk to a browser and the gateway's pages.
pytestmark = pytest.mark.network

expect.set_options(timeout=15_000)  # the Swagger UI bundle is 1.5 MB of script on a shared machine
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
TOKEN = "eyJ0ZXN0IjoidG9rZW4ifQ.e30.c2lnbmF0dXJl"


def documented_operations() -> int:
    """How many operations contracts/openapi.yaml describes."""
    spec = yaml.safe_load(contracts.path("openapi.yaml").read_text(encoding="utf-8"))
    return sum(1 for methods in spec["paths"].values() for method in methods if method in METHODS)


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    """The gateway with fakes behind it, on a free loopback port."""
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0}, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({})
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="docs-gateway", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@dataclass
class DocsTab:
    """The documentation page in a fresh context, with what the console said and every address it asked for."""

    page: Page
    base: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Script errors, console errors and CSP violations (Chromium reports the latter on the console)."""
        said = [line for line in self.console if line.startswith("error:") or "Content Security Policy" in line]
        return said + self.errors


@pytest.fixture
def docs(chromium: Browser, gateway_url: str) -> Iterator[DocsTab]:
    viewport = ViewportSize(width=VIEWPORT["width"], height=VIEWPORT["height"])
    context = chromium.new_context(locale="ru-RU", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    tab = DocsTab(page, gateway_url)

    def on_console(message: ConsoleMessage) -> None:
        tab.console.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("request", lambda request: tab.requested.append(request.url))
    try:
        page.goto(f"{gateway_url}/docs")
        yield tab
    finally:
        context.close()


def test_swagger_ui_shows_every_operation_of_the_31_document_with_no_error_and_nothing_from_elsewhere(
    docs: DocsTab,
) -> None:
    page = docs.page
    expected = documented_operations()
    assert expected >= 15
    operations = page.locator("#swagger-ui .opblock")
    expect(operations.nth(expected - 1)).to_be_attached()
    assert operations.count() == expected
    # Swagger UI stamps the version of the document it read: 3.1 itself, not a converted copy.
    expect(page.locator("#swagger-ui .info .version-stamp")).to_have_text("OAS 3.1")
    expect(page.locator('#swagger-ui .opblock-summary-path[data-path="/api/v1/applications"]')).to_have_count(2)
    assert page.locator("#swagger-ui .errors-wrapper").count() == 0, page.locator(".errors-wrapper").inner_text()
    page.wait_for_load_state("networkidle")
    assert docs.problems() == []
    assert docs.requested, "the page's own files were loaded"
    elsewhere = [url for url in docs.requested if not url.startswith(f"{docs.base}/")]
    assert elsewhere == []
    assert f"{docs.base}/docs/openapi.json" in docs.requested


def test_the_reason_catalogue_is_a_table_under_the_operations(docs: DocsTab) -> None:
    page = docs.page
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    rows = page.locator("#reasons table tbody tr")
    entries = Catalogue.load().entries()
    expect(rows).to_have_count(len(entries))
    expect(rows.first).to_have_attribute("id", f"reason-{entries[0].code}")
    expect(page.locator("#reason-SNILS_CHECKSUM td").nth(4)).to_have_text("person.snils")
    assert docs.problems() == []


def test_try_it_out_sends_the_typed_token_to_this_gateway_only_with_the_call(docs: DocsTab) -> None:
    page = docs.page
    seen: list[dict[str, Any]] = []

    def answer(route: Route, request: Request) -> None:
        seen.append({"url": request.url, "headers": request.headers})
        route.fulfill(status=200, json={"items": [], "next_cursor": None})

    page.route(f"{docs.base}/api/v1/applications*", answer)
    page.locator("#docs-token").fill(f"  {TOKEN} ")
    summary = page.locator('#swagger-ui .opblock-get:has(.opblock-summary-path[data-path="/api/v1/applications"])')
    summary.locator(".opblock-summary-control").click()
    summary.get_by_role("button", name="Try it out").click()
    summary.get_by_role("button", name="Execute").click()
    expect(summary.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    assert len(seen) == 1
    assert seen[0]["url"].startswith(f"{docs.base}/api/v1/applications")
    assert seen[0]["headers"].get("authorization") == f"Bearer {TOKEN}"
    assert docs.problems() == []
