"""Security headers on every family of endpoints: no sniffing, no framing, no referrer, no caching of personal data."""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from tests.support.bodies import BODY
from tests.support.gateway import MINE, SNILS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

PERSONAL = [
    ("GET", "/api/v1/applications"),
    ("POST", "/api/v1/applications"),
    ("POST", "/api/v1/applications/validate"),
    ("GET", f"/api/v1/policies/{MINE}"),
    ("GET", f"/api/v1/policies/{MINE}/document"),
    ("GET", f"/api/v1/policies/{MINE}/history"),
    ("GET", f"/api/v1/policies/{MINE}/visits"),
    ("GET", "/api/v1/me/family"),
    ("GET", "/api/v1/coverage"),
    ("GET", "/api/v1/fhir/CoverageEligibilityRequest/$check?region_code=77"),
    ("GET", "/api/v1/clinics?region_code=77"),
    ("GET", "/api/v1/insurers?region_code=77"),
    ("GET", "/api/v1/kz/insurance-status/900101300123"),
    ("GET", "/api/v1/applications/app_unknown"),
    ("DELETE", "/api/v1/applications/app_unknown"),
]
PUBLIC = ["/api/v1/rejection-reasons", "/api/v1/kz/packages"]


def assert_secure(answer: TestResponse) -> None:
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    if answer.mimetype in ("application/json", "application/problem+json", "application/fhir+json"):
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in answer.headers, "plain HTTP gets no HSTS"


@pytest.mark.parametrize(("method", "path"), PERSONAL)
def test_every_answer_with_personal_data_is_secured_and_never_cached(gateway: Gateway, method: str, path: str) -> None:
    insure(gateway, MINE, SNILS)
    answer = gateway.client.open(path, method=method, json=BODY if method == "POST" else None, headers=gateway.auth())
    assert answer.status_code < 500, answer.get_data(as_text=True)
    assert_secure(answer)
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_pdf_of_a_policy_is_secured_without_breaking_the_viewer(gateway: Gateway) -> None:
    insure(gateway, MINE, SNILS)
    answer = gateway.client.get(f"/api/v1/policies/{MINE}/document", headers=gateway.auth())
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert_secure(answer)
    assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PUBLIC)
def test_the_public_catalogues_stay_cacheable_and_secured(gateway: Gateway, path: str) -> None:
    answer = gateway.client.get(path)
    assert answer.status_code == 200
    assert_secure(answer)
    assert answer.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/api/v1/nowhere", "/api/v1/applications"])
def test_probes_errors_and_refusals_are_secured_too(gateway: Gateway, path: str) -> None:
    answer = gateway.client.get(path)  # no token: /api/v1/applications answers 401
    assert_secure(answer)
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_token_refusal_is_a_secured_problem(gateway: Gateway) -> None:
    answer = gateway.client.get("/api/v1/applications", headers={"Authorization": "Bearer not-a-jwt"})
    assert (answer.status_code, answer.mimetype) == (401, "application/problem+json")
    assert_secure(answer)


def test_https_requests_get_strict_transport_security(gateway: Gateway) -> None:
    answer = gateway.client.get("/api/v1/rejection-reasons", base_url="https://gateway.example")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
