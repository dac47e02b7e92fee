"""The portal's files as the gateway serves them: a strict CSP with no inline code, and the page's configuration.

These need no browser; test_portal.py drives the same pages in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import contracts
from gateway.app import create_app
from gateway.portal import bp as portal
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore

# The tests talk to a browser and the gateway's pages.
pytestmark = pytest.mark.network

ISSUER = "http://127.0.0.1:18090/oauth"


def gateway(**config: Any) -> FlaskClient:
    settings = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": ISSUER + "/", **config}
    app = create_app(settings, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({}))
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    return gateway()


def get(client: FlaskClient, path: str) -> TestResponse:
    """GET and read the whole answer, closing the file a static answer streams from."""
    answer = client.get(path)
    answer.get_data()
    answer.close()
    return answer


def directives(answer_csp: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in answer_csp.split(";"))


@pytest.mark.parametrize("path", ["/portal/", "/portal/callback"])
def test_the_page_allows_scripts_and_styles_from_the_gateway_only(client: FlaskClient, path: str) -> None:
    answer = get(client, path)
    assert (answer.status_code, answer.mimetype) == (200, "text/html")
    policy = directives(answer.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:18090", "the API and the token endpoint only"
    assert policy["frame-ancestors"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_the_page_has_no_inline_script_or_style(client: FlaskClient) -> None:
    page = get(client, "/portal/").get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.DOTALL)
    assert scripts == [""], "one external script, nothing inline"
    assert '<script src="static/portal.js" defer>' in page
    assert "<style" not in page
    assert not re.search(r"\s(style|on[a-z]+)=", page), "no style or event-handler attributes"


@pytest.mark.parametrize(
    ("path", "mimetype"), [("/portal/static/portal.js", "text/javascript"), ("/portal/static/portal.css", "text/css")]
)
def test_the_script_and_the_stylesheet_are_served(client: FlaskClient, path: str, mimetype: str) -> None:
    answer = get(client, path)
    assert (answer.status_code, answer.mimetype) == (200, mimetype)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_portal_without_a_slash_redirects_to_the_page(client: FlaskClient) -> None:
    answer = get(client, "/portal")
    assert answer.status_code in (301, 308)
    assert answer.headers["Location"].endswith("/portal/")


def test_the_config_tells_the_page_where_to_log_in_and_what_to_call(client: FlaskClient) -> None:
    answer = get(client, "/portal/config.json")
    assert (answer.status_code, answer.mimetype) == (200, "application/json")
    config = answer.get_json()
    assert config["issuer"] == ISSUER, "the gateway's OAUTH_ISSUER, without the trailing slash"
    assert config["client_id"] == "epolicy-portal"
    assert set(config["scope"].split()) >= {"openid", "snils", "epolicy.apply", "epolicy.read", "epolicy.replace"}
    assert config["api_base"] == "/api/v1"
    assert {"code": "77", "name": "Москва"} in config["regions"]
    assert [region["code"] for region in config["regions"]] == sorted(region["code"] for region in config["regions"])


def test_the_portals_files_do_not_count_against_the_apis_rate_limit() -> None:
    client = gateway(RATELIMIT_ENABLED=True, RATELIMIT_PER_ADDRESS="2/minute")
    for path in ("/portal/", "/portal/config.json", "/portal/static/portal.js", "/portal/static/portal.css"):
        assert get(client, path).status_code == 200, path
    answers = [get(client, "/api/v1/rejection-reasons").status_code for _ in range(3)]
    assert answers == [200, 200, 429]


# --- what the script says of the catalogue -------------------------------------------------------------------

CATALOGUE = yaml.safe_load(contracts.path("rejections.yaml").read_text(encoding="utf-8"))["reasons"]
SCRIPT = (Path(str(portal.static_folder)) / "portal.js").read_text(encoding="utf-8")


def script_table(name: str) -> dict[str, str]:
    """A constant object of portal.js (`const NAME = { key: "text", ... };`) as keys and texts."""
    body = re.search(rf"const {name} = \{{(.*?)\n  \}};", SCRIPT, re.DOTALL)
    assert body is not None, name
    return {key.strip('"'): text for key, text in re.findall(r'^\s*("?[\w.]+"?): "([^"]*)",', body.group(1), re.M)}


def test_every_reason_said_of_this_person_is_said_to_oneself_too() -> None:
    # The catalogue speaks to whoever applies for anyone; the portal says "вы" to a citizen about themselves.
    about_them = {
        item["code"] for item in CATALOGUE if re.search(r"\bэт(от|ого|ому|им) человек", item["message"], re.I)
    }
    assert about_them, "the catalogue has such messages"
    own = script_table("SELF_MESSAGES")
    assert set(own) == about_them
    for code, text in own.items():
        assert not re.search(r"человек", text), code
        assert re.match(r"(Вы|По вам)\b", text), code


def test_every_field_a_refusal_of_an_application_names_has_a_label_in_the_portal() -> None:
    # The status page shows «Поле: …» from these labels: the form that has the field is not on that page.
    labels = script_table("FIELD_LABELS")
    ours = ("person", "representative", "insurer_code", "region_code", "relation", "reason", "policy_form", "enp")
    fields = {item["field"] for item in CATALOGUE if item.get("field") and item["field"].startswith(ours)}
    assert "insurer_code" in fields and "person.snils" in fields
    assert sorted(fields - set(labels)) == []
    assert all(text and not text.endswith("*") for text in labels.values())
