"""Benchmark 1: CPU cost of a policy status check through the whole gateway, next to a bare Flask endpoint.

Both run in this process, side by side, through Flask's test client: the status check validates a real RS256
token (JWKS fetched once from the mock OAuth server on loopback, then cached), calls the fund through the real
zeep adapter over an in-process transport that answers a recorded envelope, and renders the JSON. Also reports
zeep's share next to building and reading the same message by hand with lxml.

Run: `.venv/bin/python -m bench.cpu_per_request [--quick]` (or `make bench`).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask, jsonify
from lxml import etree
from requests.adapters import BaseAdapter
from werkzeug.serving import make_server

import contracts
from adapters.fund import FundAdapter
from gateway.app import create_app
from mocks.app import create_app as create_mocks
from tests.fakes import FakeInsurers, FakeKzFund, FakeStore

ENP = "7754900882000015"
RECORDED = contracts.path("samples", "fund", "GetInsuranceStatus.response.xml").read_bytes()
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


SAMPLES = {
    path.name.removesuffix(".response.xml"): path.read_bytes()
    for path in contracts.path("samples", "fund").glob("*.response.xml")
}


class RecordedFund(BaseAdapter):  # type: ignore[misc]
    """A requests transport adapter that answers each SOAP call with its recorded envelope, without a socket."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        operation = etree.QName(etree.fromstring(body).find(f"{{{SOAP}}}Body")[0]).localname.removesuffix("Request")
        response = requests.Response()
        response.status_code = 200
        response._content = SAMPLES[operation]
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    """Seconds per call, each measured."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a quick look")
    args = parser.parse_args(argv)
    runs = 300 if args.quick else 3000

    mocks = make_server("127.0.0.1", 0, create_mocks(), threaded=True)
    threading.Thread(target=mocks.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{mocks.port}"
    try:
        session = requests.Session()
        session.mount("http://fund.bench/", RecordedFund())
        fund = FundAdapter("http://fund.bench/fund", timeout=5, session=session)
        gateway = create_app(
            {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{base}/oauth", "RATELIMIT_ENABLED": False},
            store=FakeStore(),
            fund=fund,
            insurers=FakeInsurers({}),
            kz_fund=FakeKzFund(),
        )
        token = requests.post(
            f"{base}/oauth/test/token", json={"sub": "bench", "scope": "epolicy.eligibility"}, timeout=10
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        client = gateway.test_client()
        assert client.get(f"/api/v1/policies/{ENP}", headers=headers).status_code == 200

        bare = Flask("bare")

        @bare.get("/bare")
        def bare_view() -> Any:
            return jsonify({"enp": ENP, "status": "active"})

        bare_client = bare.test_client()

        def status() -> None:
            client.get(f"/api/v1/policies/{ENP}", headers=headers)

        def plain() -> None:
            bare_client.get("/bare")

        zeep_call = lambda: fund.insurance_status("bench-1", ENP)  # noqa: E731
        lxml_call = lambda: hand_built_round_trip()  # noqa: E731
        for warm in (status, plain, zeep_call, lxml_call):
            timed(warm, 20)
        results = {
            "status check (gateway)": timed(status, runs),
            "bare Flask JSON endpoint": timed(plain, runs),
            "fund call via zeep": timed(zeep_call, runs),
            "same message by hand (lxml)": timed(lxml_call, runs),
        }
    finally:
        mocks.shutdown()
    print(f"\nCPU cost per request, in process, {runs} runs each (median and p90, microseconds)\n")
    medians = {}
    for name, samples in results.items():
        medians[name] = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"  {name:<30} {medians[name] * 1e6:>9.0f} µs   p90 {p90 * 1e6:>9.0f} µs")
    ratio = medians["status check (gateway)"] / medians["bare Flask JSON endpoint"]
    zeep_share = medians["fund call via zeep"] / medians["status check (gateway)"]
    print(f"\n  ratio status check / bare endpoint: {ratio:.2f}× (target ≤ 3×)")
    print(f"  zeep's share of the status check: {zeep_share:.0%}; zeep / hand-built lxml: "
          f"{medians['fund call via zeep'] / medians['same message by hand (lxml)']:.1f}×")  # fmt: skip
    return 0


def hand_built_round_trip() -> str:
    """Build the GetInsuranceStatus request with lxml and read the recorded answer: what zeep does, by hand."""
    fund_ns = "urn:epolicy:fund:v1"
    envelope = etree.Element(f"{{{SOAP}}}Envelope")
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    request = etree.SubElement(body, f"{{{fund_ns}}}GetInsuranceStatusRequest")
    etree.SubElement(request, f"{{{fund_ns}}}MessageId").text = "bench-1"
    etree.SubElement(request, f"{{{fund_ns}}}Enp").text = ENP
    etree.tostring(envelope)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    answer = etree.fromstring(RECORDED, parser=parser)
    return str(answer.findtext(".//{urn:epolicy:common:v1}Status"))


if __name__ == "__main__":
    raise SystemExit(main())
