"""/docs: the API documentation served by the gateway itself, offline, under a strict CSP, with valid examples."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import jsonschema_rs
import pytest
import yaml
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.catalogue import Catalogue
from gateway.openapi import document, operations
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore
from tests.support.gateway import Gateway

EXTERNAL = re.compile(r"https?://|//[a-z0-9]", re.IGNORECASE)
CONTENT_TYPES = {".css": {"text/css"}, ".js": {"text/javascript", "application/javascript"}, ".png": {"image/png"}}


# Neither the default (127.0.0.1:8090) nor a port anything listens on: the page only names it.
ISSUER = "http://auth.test.invalid:47123/esia"


def docs_client(issuer: str) -> FlaskClient:
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": issuer},
        store=FakeStore(),
        fund=FakeFund(),
        insurers=FakeInsurers({}),
    )
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    return docs_client(ISSUER)


class Page(HTMLParser):
    """The tags of a page that load or run something."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self.urls: list[str] = []
        self.handlers: list[str] = []
        self.styles: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self.scripts.append(named)
            self._in_script = True
        if tag == "style":
            self.styles.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "data-url") and value:
                self.urls.append(value)
            if name.startswith("on"):
                self.handlers.append(name)
            if name == "style":
                self.styles.append(f"style attribute on {tag}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def fetched(client: FlaskClient, path: str) -> tuple[Any, bytes]:
    """An answer and its body, the file behind it closed (send_file streams it)."""
    answer = client.get(path)
    try:
        return answer, answer.get_data()
    finally:
        answer.close()


def parsed(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_the_page_is_html_under_a_csp_that_allows_no_inline_script_and_no_other_origin(client: FlaskClient) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    policy = dict(part.strip().split(" ", 1) for part in answer.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in answer.headers["Content-Security-Policy"]
    page = parsed(answer.get_data(as_text=True))
    assert page.scripts, "Swagger UI and its set-up are loaded"
    assert all(script.get("src") for script in page.scripts)
    assert page.inline_scripts == []
    assert page.handlers == []
    assert page.styles == []


def test_the_page_and_its_script_name_no_external_url(client: FlaskClient) -> None:
    text = client.get("/docs").get_data(as_text=True)
    # The authorization server is named in the text, for getting a token by hand; the page loads nothing from it.
    assert f"<code>{ISSUER}</code>" in text
    assert not EXTERNAL.search(text.replace(ISSUER, "")), EXTERNAL.search(text.replace(ISSUER, ""))
    page = parsed(text)
    assert page.urls
    assert all(url.startswith(("/docs", "#")) for url in page.urls), page.urls
    script = fetched(client, "/docs/assets/docs.js")[1].decode()
    assert not EXTERNAL.search(script)
    assert "validatorUrl: null" in script, "Swagger UI's default validator badge would call another site"


def test_every_asset_the_page_loads_is_served_with_its_content_type(client: FlaskClient) -> None:
    page = parsed(client.get("/docs").get_data(as_text=True))
    assets = [url for url in page.urls if url.startswith("/docs/assets/")]
    names = {url.rsplit("/", 1)[1] for url in assets}
    assert names == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "docs.css",
        "docs.js",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
    for url in assets:
        answer, body = fetched(client, url)
        assert answer.status_code == 200, url
        assert answer.mimetype in CONTENT_TYPES[url[url.rindex(".") :]], (url, answer.mimetype)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")
        assert len(body) > 100, url
    assert b"SwaggerUIBundle" in fetched(client, "/docs/assets/swagger-ui-bundle.js")[1]


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/index.html",  # the distribution's own page, with its petstore address
        "/docs/assets/swagger-initializer.js",
        "/docs/assets/oauth2-redirect.html",
        "/docs/assets/swagger-editor-bundle.js",
        "/docs/assets/swagger-ui-es-bundle.js",
        "/docs/assets/swagger-ui.css.map",
        "/docs/assets/LICENSE",
        "/docs/assets/../app.py",
        "/docs/assets/%2e%2e/app.py",
        "/docs/assets/docs.js/../../cli.py",
        "/docs/assets/nothing.js",
    ],
)
def test_only_the_files_of_the_page_are_served(client: FlaskClient, path: str) -> None:
    assert fetched(client, path)[0].status_code == 404


def test_the_document_is_served_as_json_and_yaml_with_this_gateway_as_first_server(client: FlaskClient) -> None:
    expected = document(ISSUER)
    as_json = client.get("/docs/openapi.json")
    assert as_json.status_code == 200
    assert as_json.mimetype == "application/json"
    served = as_json.get_json()
    assert served["servers"][0]["url"] == "/"
    assert served["servers"][1:] == expected["servers"]
    assert {key: value for key, value in served.items() if key != "servers"} == {
        key: value for key, value in expected.items() if key != "servers"
    }
    as_yaml = client.get("/docs/openapi.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml.mimetype == "application/yaml"
    assert as_yaml.content_type == "application/yaml; charset=utf-8"
    assert yaml.safe_load(as_yaml.get_data(as_text=True)) == served
    page = parsed(client.get("/docs").get_data(as_text=True))
    assert "/docs/openapi.json" in page.urls


@pytest.mark.parametrize("issuer", [ISSUER, "https://esia.example.ru/aas/oauth2/"])
def test_the_page_and_the_document_name_the_configured_authorization_server_not_a_fixed_port(issuer: str) -> None:
    served = issuer.rstrip("/")
    client = docs_client(issuer)
    text = client.get("/docs").get_data(as_text=True)
    assert f"<code>POST {served}/test/token</code>" in text
    assert f"<code>POST {served}/token</code>" in text
    assert "8090" not in text
    for path in ("/docs/openapi.json", "/docs/openapi.yaml"):
        flows = yaml.safe_load(client.get(path).get_data(as_text=True))["components"]["securitySchemes"]["oauth2"]
        assert flows["flows"]["authorizationCode"]["authorizationUrl"] == f"{served}/authorize", path
        assert flows["flows"]["authorizationCode"]["tokenUrl"] == f"{served}/token", path
        assert flows["flows"]["clientCredentials"]["tokenUrl"] == f"{served}/token", path
        assert "8090" not in client.get(path).get_data(as_text=True), path


def test_the_committed_document_names_the_default_issuer() -> None:
    from gateway.config import Settings

    flows = document()["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == f"{Settings().oauth_issuer}/token"


def test_swagger_ui_reads_the_openapi_31_document_itself_with_no_converted_copy(client: FlaskClient) -> None:
    roots = re.findall(r'<div id="swagger-ui" data-url="([^"]*)"', client.get("/docs").get_data(as_text=True))
    assert roots == ["/docs/openapi.json"]
    assert client.get(roots[0]).get_json()["openapi"].startswith("3.1.")
    assert fetched(client, "/docs/openapi-3.0.json")[0].status_code == 404
    bundle = fetched(client, "/docs/assets/swagger-ui-bundle.js")[1]
    version = re.search(rb'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None
    assert int(version[1]) >= 5, "Swagger UI reads OpenAPI 3.1 from version 5 on"


def test_the_documentation_is_not_in_the_api_document() -> None:
    assert not [path for path in document()["paths"] if path.startswith("/docs")]


def test_the_page_shows_every_reason_with_message_recommendation_status_and_field(client: FlaskClient) -> None:
    text = client.get("/docs").get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="reason-([A-Z0-9_]+)">(.*?)</tr>', text, re.DOTALL))
    entries = Catalogue.load().entries()
    assert list(rows) == [entry.code for entry in entries]
    for entry in entries:
        cells = re.findall(r"<td>(.*?)</td>", rows[entry.code], re.DOTALL)
        assert len(cells) == 6, entry.code
        assert html.escape(entry.title) in cells[0]
        assert cells[1] == html.escape(entry.message)
        assert cells[2] == html.escape(entry.recommendation)
        assert cells[3] == str(entry.http_status)
        assert cells[4] == (f"<code>{html.escape(entry.field)}</code>" if entry.field else "—")
        assert all(f"<code>{source}</code>" in cells[5] for source in entry.sources)
        # A code only a real registry says is marked so, with why.
        assert (html.escape(entry.reserved) in cells[0]) if entry.reserved else ("docs-reserved" not in cells[0])
    snils = re.findall(r"<td>(.*?)</td>", rows["SNILS_CHECKSUM"], re.DOTALL)
    assert snils[4] == "<code>person.snils</code>"
    assert snils[3] == "422"


# --- Examples of the OpenAPI document ---


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    root = {"components": spec["components"], **schema}  # so that "#/components/..." resolves
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def _body_examples(spec: dict[str, Any]) -> list[tuple[str, str, str, Any, dict[str, Any]]]:
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for name, example in (media or {}).get("examples", {}).items():
                found.append((path, method, name, example["value"], media["schema"]))
    return found


def test_every_operation_with_a_body_has_examples_and_every_required_parameter_one() -> None:
    spec = document()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                assert media.get("examples"), f"{method.upper()} {path} has no example body"
            for parameter in operation.get("parameters", []):
                if parameter.get("required"):
                    assert "example" in parameter, f"{method.upper()} {path}: {parameter['name']} has no example"


def test_every_body_example_matches_its_schema_in_the_document_and_in_the_code() -> None:
    spec = document()
    examples = _body_examples(spec)
    assert len(examples) >= 10
    loaders = {(operation.path, operation.method): operation.body for operation in operations()}
    for path, method, name, value, schema in examples:
        errors = [error.message for error in _validator(spec, schema).iter_errors(value)]
        assert errors == [], f"{method.upper()} {path} example {name}: {errors}"
        loader = loaders[(path, method)]
        assert loader is not None
        loader().load(value)  # marshmallow raises on anything the view would refuse as a shape error


def test_every_parameter_example_matches_its_schema() -> None:
    spec = document()
    checked = 0
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if "example" in parameter:
                    errors = [
                        e.message for e in _validator(spec, parameter["schema"]).iter_errors(parameter["example"])
                    ]
                    assert errors == [], f"{method.upper()} {path} {parameter['name']}: {errors}"
                    checked += 1
    assert checked >= 15


def test_a_schema_violation_in_an_example_would_be_caught() -> None:
    spec = document()
    _, _, _, value, schema = next(item for item in _body_examples(spec) if item[0] == "/api/v1/applications")
    broken = {**value, "region_code": "7"}
    assert not _validator(spec, schema).is_valid(broken)


@pytest.mark.network
@pytest.mark.parametrize("name", ["self", "child", "foreigner"])
def test_the_application_examples_pass_the_gateways_own_checks(gateway: Gateway, name: str) -> None:
    (value,) = [v for path, _, n, v, _ in _body_examples(document()) if path == "/api/v1/applications" and n == name]
    answer = gateway.client.post("/api/v1/applications/validate", json=value, headers=gateway.auth())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"valid": True}
