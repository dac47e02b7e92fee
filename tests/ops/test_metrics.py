"""/metrics: requests by route and status, latencies, back-end calls by outcome, the outbox and the breakers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.model import Source
from gateway.ports import BackendRefusal
from gateway.worker import Worker
from tests.support.bodies import BODY
from tests.support.fakes import unavailable
from tests.support.gateway import Gateway, insure
from tests.support.ops import MakeGateway, value

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

ENP = "7754900882000015"
POLICY_ROUTE = "/api/v1/policies/<enp>"


def scrape(gateway: Gateway) -> str:
    answer = gateway.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    return answer.get_data(as_text=True)


def clinic(gateway: Gateway) -> dict[str, str]:
    return gateway.auth(scope="epolicy.eligibility")


def test_requests_are_counted_by_route_and_status_never_by_path(gateway: Gateway) -> None:
    before = scrape(gateway)
    assert gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway)).status_code == 404
    assert gateway.client.get("/healthz").status_code == 200
    assert gateway.client.get("/healthz").status_code == 200
    assert gateway.client.get("/no/such/path/11223344595").status_code == 404
    after = scrape(gateway)

    counted = {"name": "epolicy_http_requests_total", "method": "GET"}
    assert value(after, **counted, endpoint=POLICY_ROUTE, status="404") == 1
    assert (
        value(after, **counted, endpoint="/healthz", status="200")
        - value(before, **counted, endpoint="/healthz", status="200")
        == 2
    )
    assert value(after, **counted, endpoint="(no route)", status="404") == 1
    timed = {"name": "epolicy_http_request_duration_seconds_count", "method": "GET"}
    assert value(after, **timed, endpoint=POLICY_ROUTE) == 1
    assert value(after, "epolicy_http_request_duration_seconds_sum", method="GET", endpoint=POLICY_ROUTE) > 0
    assert ENP not in after and "11223344595" not in after, "paths with identifiers never become labels"


def test_backend_calls_are_counted_by_outcome(gateway: Gateway) -> None:
    calls = {"name": "epolicy_backend_calls_total", "backend": "fund", "operation": "policy_card"}
    gateway.fund.fail("policy_card", unavailable(Source.FUND, "GetPolicyCard"))
    gateway.fund.fail("policy_card", BackendRefusal(Source.FUND, "ENP_INVALID", "ЕНП не найден в регистре"))

    assert gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway)).status_code == 503
    gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway))
    assert gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway)).status_code == 404
    metrics = scrape(gateway)

    assert value(metrics, **calls, outcome="unavailable") == 1
    assert value(metrics, **calls, outcome="refused") == 1
    assert value(metrics, **calls, outcome="ok") == 1, "an ЕНП the fund does not know is an answer"
    timed = {"name": "epolicy_backend_call_duration_seconds_count", "backend": "fund"}
    assert value(metrics, **timed, operation="policy_card") == 3


def test_the_workers_calls_of_the_fund_and_the_insurer_are_counted_too(gateway: Gateway) -> None:
    assert gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).status_code == 202
    worker = Worker(gateway.app.extensions["epolicy"].worker_context, "w1")
    while worker.run_once():
        pass
    metrics = scrape(gateway)

    calls = {"name": "epolicy_backend_calls_total", "outcome": "ok"}
    assert value(metrics, **calls, backend="fund", operation="verify_person") == 1
    assert value(metrics, **calls, backend="insurer", operation="issue_policy") == 1
    assert value(metrics, **calls, backend="fund", operation="register_policy") == 1


def test_the_outbox_depth_and_the_age_of_its_oldest_entry_are_read_at_scrape_time(gateway: Gateway) -> None:
    services = gateway.app.extensions["epolicy"]
    accepted_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    services.clock = lambda: accepted_at
    assert gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).status_code == 202
    services.clock = lambda: accepted_at + timedelta(seconds=90)

    metrics = scrape(gateway)
    assert value(metrics, "epolicy_outbox_depth", state="due") == 1
    assert value(metrics, "epolicy_outbox_depth", state="scheduled") == 0
    assert value(metrics, "epolicy_outbox_oldest_pending_age_seconds") == 90

    gateway.fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"))
    worker = Worker(services.worker_context, "w1")
    worker.run_once()  # accepted → verifying
    worker.run_once()  # the fund is down: retried later
    metrics = scrape(gateway)
    assert (
        value(metrics, "epolicy_outbox_depth", state="due"),
        value(metrics, "epolicy_outbox_depth", state="scheduled"),
    ) == (0, 1)
    assert (
        value(metrics, "epolicy_backend_calls_total", backend="fund", operation="verify_person", outcome="unavailable")
        == 1
    )


def test_the_state_of_each_circuit_breaker_is_reported(make_gateway: MakeGateway) -> None:
    gateway = make_gateway(BREAKER_FAILURES=1)
    breaker = {"name": "epolicy_circuit_breaker_state", "backend": "fund"}
    assert value(scrape(gateway), **breaker, state="closed") == 1

    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    assert gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway)).status_code == 503
    metrics = scrape(gateway)

    assert (value(metrics, **breaker, state="open"), value(metrics, **breaker, state="closed")) == (1, 0)
    assert value(metrics, "epolicy_circuit_breaker_state", backend="kz_fund", state="closed") == 1


def test_apps_in_one_process_count_apart(make_gateway: MakeGateway) -> None:
    first, second = make_gateway(), make_gateway()
    first.client.get("/healthz")

    counted = {"name": "epolicy_http_requests_total", "method": "GET", "endpoint": "/healthz", "status": "200"}
    assert value(scrape(first), **counted) == 1
    assert value(scrape(second), **counted) == 0


def test_metrics_can_be_turned_off(make_gateway: MakeGateway) -> None:
    gateway = make_gateway(METRICS_ENABLED=False)

    answer = gateway.client.get("/metrics")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_metrics_can_be_kept_to_some_networks(make_gateway: MakeGateway) -> None:
    gateway = make_gateway(METRICS_ALLOW="10.0.0.0/8, 192.168.1.5")

    assert gateway.client.get("/metrics").status_code == 404, "the test client comes from 127.0.0.1"
    assert gateway.client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert gateway.client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.5"}).status_code == 200
    assert gateway.client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.6"}).status_code == 404


def test_a_scrape_is_no_request_of_the_api(gateway: Gateway) -> None:
    answer = gateway.client.get("/metrics")

    assert answer.headers["Cache-Control"] == "no-store"
    assert "X-Request-ID" not in answer.headers, "not a request of the API: neither logged nor rate limited"
    metrics = scrape(gateway)
    assert value(metrics, "epolicy_http_requests_total", method="GET", endpoint="(no route)", status="200") == 0


def test_status_cache_hits_and_misses_are_counted(gateway: Gateway) -> None:
    insure(gateway, ENP, "11223344595")
    for _ in range(3):
        assert gateway.client.get(f"/api/v1/policies/{ENP}", headers=clinic(gateway)).status_code == 200
    metrics = scrape(gateway)

    reads = {"name": "epolicy_status_cache_reads_total"}
    assert (value(metrics, **reads, result="miss"), value(metrics, **reads, result="hit")) == (1, 2)
