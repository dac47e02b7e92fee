"""Benchmark 1: CPU cost of a policy status check through the whole gateway, next to a bare Flask endpoint.

Both run in this process, side by side, through Flask's test client, and each call is timed in CPU time of the
process (`time.process_time`: the gateway's own threads count too, other work on the machine does not; the
in-process mock server only answers the one JWKS fetch before the runs). The status check
validates a real RS256 token (JWKS fetched once from the mock OAuth server on loopback), reads the store (SQLite),
calls the fund through the real zeep adapter over an in-process transport that answers the recorded envelopes of
contracts/samples, and renders the JSON. It is measured three ways:

- first read: the status cache off, so every check asks the fund (one GetPolicyCard call);
- repeated read: the same ЕНП again within the cache's time to live (one indexed query of the store instead);
- conditional read: a repeated read with If-None-Match, answered 304 without a body.

Also compares one fund call made three ways: through the adapter (the compiled codec of adapters.codec), through
zeep's own service proxy over the same client (the reference), and the same message built and read by hand with
lxml; and the message work alone (building the request, reading the answer with the XSD check), without the
transport.

Signing (contracts/signing/README.md) is measured beside the same rows, with keys made for the run: the message
work signed (the request signed on egress, a pre-signed answer checked on ingress before the XSD check and the
read), `sign` and `check` alone (the answer's parse apart), and the first read through a gateway whose fund adapter
signs, over a transport that signs every answer for the request it answers. That transport's own signing is
measured alone too, so that the report can tell the gateway's part of the signed first read.

Run: `.venv/bin/python -m bench.cpu_per_request [--quick]` (or `make bench`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from flask import Flask, jsonify
from flask.testing import FlaskClient
from lxml import etree
from requests.adapters import BaseAdapter
from werkzeug.serving import make_server

import contracts
from adapters.fund import FundAdapter
from adapters.mapping import read_policy
from adapters.signing import Identity, Signing, TrustStore, _in_flight, _Sent, check, development_keys, sign
from adapters.soap import FUND, call
from gateway.app import create_app
from gateway.domain.model import Source
from gateway.storage.migrate import upgrade
from mocks.app import create_app as create_mocks
from tests.support.fakes import FakeInsurers, FakeKzFund

ENP = "7754900882000015"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


SAMPLES = {
    path.name.removesuffix(".response.xml"): path.read_bytes()
    for path in contracts.path("samples", "fund").glob("*.response.xml")
}


class RecordedFund(BaseAdapter):  # type: ignore[misc]
    """A requests transport adapter that answers each SOAP call with its recorded envelope, without a socket."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # The operation by its SOAPAction ("urn:epolicy:fund:v2/GetPolicyCard"): no parse of the request here, so
        # that the transport costs every variant the same little.
        operation = str(request.headers["SOAPAction"]).strip('"').rsplit("/", 1)[-1]
        response = requests.Response()
        response.status_code = 200
        response._content = SAMPLES[operation]
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        return None


# The wsa:MessageID of a signed request, found in its bytes without a parse (the payload's is `MessageId`).
_WSA_MESSAGE_ID = re.compile(rb"<(?:[\w.-]+:)?MessageID\b[^>]*>\s*(urn:uuid:[0-9a-fA-F-]+)\s*<")


class SignedRecordedFund(RecordedFund):
    """RecordedFund, each answer signed by the fund's key for the request it answers, as the fund would send it."""

    def __init__(self, identity: Identity):
        super().__init__()
        self._identity = identity
        self.last: tuple[str, bytes] | None = None  # the operation and body of the last request, to time `answer`

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response: requests.Response = super().send(request, **kwargs)
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        operation = str(request.headers["SOAPAction"]).strip('"').rsplit("/", 1)[-1]
        self.last = (operation, body)
        response._content = self.answer(operation, body)
        return response

    def answer(self, operation: str, request: bytes) -> bytes:
        """The recorded answer of `operation`, signed to relate to the request's wsa:MessageID (an unsigned request
        has none: then to RELATES_TO, for a gateway that does not check)."""
        found = _WSA_MESSAGE_ID.search(request)
        return signed_sample(SAMPLES[operation], self._identity, found.group(1).decode() if found else RELATES_TO)


def signed_sample(sample: bytes, identity: Identity, relates_to: str) -> bytes:
    """A recorded answer signed by `identity` as the answer to the request with this wsa:MessageID."""
    root = etree.fromstring(sample, parser=_PARSER)
    sign(root, identity, relates_to=relates_to)
    return etree.tostring(root)


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    """CPU seconds of this process per call, each measured."""
    samples = []
    for _ in range(runs):
        started = time.process_time()
        call()
        samples.append(time.process_time() - started)
    return samples


class Prepared:
    """A call whose input is made afresh for every run, outside the time measured (`timed` sees a plain call)."""

    def __init__(self, setup: Callable[[], Any], call: Callable[[Any], Any]):
        self._setup, self._call = setup, call

    def timed(self, runs: int) -> list[float]:
        samples = []
        for _ in range(runs):
            given = self._setup()
            started = time.process_time()
            self._call(given)
            samples.append(time.process_time() - started)
        return samples


def measure(call: Callable[[], Any] | Prepared, runs: int) -> list[float]:
    """CPU seconds per run of a plain call or of a prepared one."""
    return call.timed(runs) if isinstance(call, Prepared) else timed(call, runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a quick look")
    args = parser.parse_args(argv)
    runs = 500 if args.quick else 5000

    workdir = tempfile.mkdtemp(prefix="epolicy-bench-")
    keys = Keys(Path(workdir) / "keys")
    # Only its OAuth server is used; its SOAP side is told whom to trust so that it does not warn it trusts nobody.
    mocks_app = create_mocks(
        {"SIGNING_KEYS": str(Path(workdir) / "mocks-keys"), "TRUSTED_CERTIFICATES": keys.certificate}
    )
    mocks = make_server("127.0.0.1", 0, mocks_app, threaded=True)
    threading.Thread(target=mocks.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{mocks.port}"
    try:
        session = requests.Session()
        session.mount("http://fund.bench/", RecordedFund())
        fund = FundAdapter(ADDRESS, timeout=5, signing=None, session=session)
        reference = fund._client.reference(ADDRESS)
        assert fund.insurance_status("bench-1", ENP) == zeep_call(reference)
        transport = SignedRecordedFund(keys.fund.identity)
        signed_session = requests.Session()
        signed_session.mount("http://fund.bench/", transport)
        signed_fund = FundAdapter(ADDRESS, timeout=5, signing=keys.signing, session=signed_session)
        # Signing off over the same signing transport: the unsigned first read plus the transport's signing as it
        # costs in the read, where the rest of the request leaves the caches colder than a loop of it alone does.
        unchecked_fund = FundAdapter(ADDRESS, timeout=5, signing=None, session=signed_session)

        database = f"sqlite:///{workdir}/bench.sqlite3"
        upgrade(database)

        def gateway(cache_seconds: float, adapter: FundAdapter = fund) -> FlaskClient:
            config = {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{base}/oauth"}
            config |= {"RATELIMIT_ENABLED": False, "STATUS_CACHE_SECONDS": cache_seconds, "DATABASE_URL": database}
            app = create_app(config, fund=adapter, insurers=FakeInsurers({}), kz_fund=FakeKzFund())
            return app.test_client()

        token = requests.post(
            f"{base}/oauth/test/token", json={"sub": "bench", "scope": "epolicy.eligibility"}, timeout=10
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        cold, warm, signed_cold, unchecked_cold = (
            gateway(0),
            gateway(3600),
            gateway(0, signed_fund),
            gateway(0, unchecked_fund),
        )
        first = warm.get(f"/api/v1/policies/{ENP}", headers=headers)
        assert first.status_code == 200, first.get_data(as_text=True)
        assert cold.get(f"/api/v1/policies/{ENP}", headers=headers).get_json() == first.get_json()
        assert signed_cold.get(f"/api/v1/policies/{ENP}", headers=headers).get_json() == first.get_json()
        conditional = {**headers, "If-None-Match": str(first.headers["ETag"])}
        assert warm.get(f"/api/v1/policies/{ENP}", headers=conditional).status_code == 304
        assert transport.last is not None
        asked = transport.last  # the fund call of a first read, signed, to time the transport's signing alone
        assert unchecked_cold.get(f"/api/v1/policies/{ENP}", headers=headers).get_json() == first.get_json()

        bare = Flask("bare")

        @bare.get("/bare")
        def bare_view() -> Any:
            return jsonify({"enp": ENP, "status": "active"})

        bare_client = bare.test_client()
        answer = SignedAnswer(keys.fund.identity)
        assert compiled_message(signed_fund, answer) == compiled_message(fund) == zeep_message(signed_fund, answer)
        calls: dict[str, Callable[[], Any] | Prepared] = {
            STATUS_FIRST: lambda: cold.get(f"/api/v1/policies/{ENP}", headers=headers),
            STATUS_REPEATED: lambda: warm.get(f"/api/v1/policies/{ENP}", headers=headers),
            STATUS_304: lambda: warm.get(f"/api/v1/policies/{ENP}", headers=conditional),
            BARE: lambda: bare_client.get("/bare"),
            COMPILED: lambda: fund.insurance_status("bench-1", ENP),
            ZEEP: lambda: zeep_call(reference),
            LXML: hand_built_round_trip,
            COMPILED_MESSAGE: lambda: compiled_message(fund),
            ZEEP_MESSAGE: lambda: zeep_message(fund),
            COMPILED_SIGNED: lambda: compiled_message(signed_fund, answer),
            ZEEP_SIGNED: lambda: zeep_message(signed_fund, answer),
            SIGN: Prepared(lambda: fresh_request(fund), lambda envelope: sign(envelope, keys.gateway)),
            PARSE_UNSIGNED: lambda: etree.fromstring(SAMPLE_ANSWER, parser=_PARSER),
            PARSE_SIGNED: lambda: etree.fromstring(answer.body, parser=_PARSER),
            CHECK: Prepared(
                lambda: etree.fromstring(answer.body, parser=_PARSER),
                lambda tree: check(tree, keys.fund.trust, relates_to=RELATES_TO),
            ),
            STATUS_FIRST_SIGNED: lambda: signed_cold.get(f"/api/v1/policies/{ENP}", headers=headers),
            TRANSPORT_SIGNING: lambda: transport.answer(*asked),
            STATUS_FIRST_TRANSPORT_SIGNS: lambda: unchecked_cold.get(f"/api/v1/policies/{ENP}", headers=headers),
        }
        for call in calls.values():
            measure(call, 50)
        # Interleaved rounds, so that a slow spell of the machine falls on every variant alike.
        results: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(10):
            answer.refresh()  # its timestamp stays well inside the window however long a round takes
            for name, call in calls.items():
                results[name] += measure(call, runs // 10)
    finally:
        mocks.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, runs)
    return 0


ADDRESS = "http://fund.bench/fund"
# The wsa:MessageID the pre-signed answer relates to: the request in flight is set to it before the answer is read.
RELATES_TO = "urn:uuid:00000000-0000-4000-8000-00000000be1c"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class Party:
    """One party's key and certificate, as it signs, and the trust store of those who check it."""

    def __init__(self, folder: Path, name: str):
        key, certificate = development_keys(folder, name)
        self.identity = Identity.load(str(key), str(certificate))
        self.trust = TrustStore.load(str(certificate))


class Keys:
    """The run's development keys: the gateway signs its requests, the fund its answers."""

    def __init__(self, folder: Path):
        gateway = Party(folder, "gateway")
        self.gateway = gateway.identity
        self.certificate = str(folder / "gateway.pem")
        self.fund = Party(folder, "fund")
        self.signing = Signing(self.gateway, {ADDRESS: self.fund.trust})


class SignedAnswer:
    """The recorded GetInsuranceStatus answer signed once by the fund for the request RELATES_TO."""

    def __init__(self, identity: Identity):
        self._identity = identity
        self.body = b""
        self.refresh()

    def refresh(self) -> None:
        """Sign it again, with a fresh timestamp."""
        self.body = signed_sample(SAMPLE_ANSWER, self._identity, RELATES_TO)


STATUS_FIRST = "status check, first read"
STATUS_REPEATED = "status check, repeated read"
STATUS_304 = "status check, If-None-Match: 304"
BARE = "bare Flask JSON endpoint"
COMPILED = "one fund call, compiled codec"
ZEEP = "one fund call, zeep (reference)"
LXML = "same message by hand (lxml)"
COMPILED_MESSAGE = "message work, compiled codec"
ZEEP_MESSAGE = "message work, zeep"
COMPILED_SIGNED = "message work, compiled codec, signed"
ZEEP_SIGNED = "message work, zeep, signed"
SIGN = "sign alone (request)"
PARSE_UNSIGNED = "parse of the answer, unsigned"
PARSE_SIGNED = "parse of the answer, signed"
CHECK = "check alone (answer, parse apart)"
STATUS_FIRST_SIGNED = "status check, first read, signed"
TRANSPORT_SIGNING = "transport's signing of an answer"
STATUS_FIRST_TRANSPORT_SIGNS = "status check, first read, unsigned gateway, signing transport"


def report(results: dict[str, list[float]], runs: int) -> None:
    print(f"\nBenchmark 1: CPU cost per request, in process, {runs} runs each (CPU time of the process, µs)\n")
    medians = {}
    for name, samples in results.items():
        medians[name] = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"  {name:<62} median {medians[name] * 1e6:>7.0f}   p90 {p90 * 1e6:>7.0f}")
    print()
    # A read that asks the fund may cost 3 bare endpoints; one answered from the status cache, 2.
    for name, target in ((STATUS_FIRST, 3.0), (STATUS_REPEATED, 2.0), (STATUS_304, 2.0)):
        ratio = medians[name] / medians[BARE]
        verdict = "met" if ratio <= target else "not met"
        print(f"  ratio {name} / bare endpoint: {ratio:.2f}× (target ≤ {target:g}×: {verdict})")
    print(
        f"  fund call, compiled / zeep: {medians[COMPILED] / medians[ZEEP]:.2f}×; compiled / by hand (lxml): "
        f"{medians[COMPILED] / medians[LXML]:.1f}× (target ≤ 3×); zeep / by hand: {medians[ZEEP] / medians[LXML]:.1f}×"
    )
    print(f"  message work alone, compiled / by hand: {medians[COMPILED_MESSAGE] / medians[LXML]:.1f}× "
          f"(zeep / by hand: {medians[ZEEP_MESSAGE] / medians[LXML]:.1f}×); the XSD check of the answer is in both "
          f"codecs, not in the hand-built one")  # fmt: skip
    report_signing(medians)


def report_signing(medians: dict[str, float]) -> None:
    """What signing adds: to the message work, to the first read, and per SOAP call."""
    us = {name: value * 1e6 for name, value in medians.items()}
    print(f"  signed / unsigned message work: compiled {us[COMPILED_SIGNED] / us[COMPILED_MESSAGE]:.2f}× "
          f"(+{us[COMPILED_SIGNED] - us[COMPILED_MESSAGE]:.0f} µs), zeep {us[ZEEP_SIGNED] / us[ZEEP_MESSAGE]:.2f}× "
          f"(+{us[ZEEP_SIGNED] - us[ZEEP_MESSAGE]:.0f} µs)")  # fmt: skip
    parse = us[PARSE_SIGNED] - us[PARSE_UNSIGNED]
    print(f"  sign {us[SIGN]:.0f} µs + check {us[CHECK]:.0f} µs + the larger answer's parse +{parse:.0f} µs = "
          f"{us[SIGN] + us[CHECK] + parse:.0f} µs")  # fmt: skip
    gateway = us[STATUS_FIRST_SIGNED] - us[TRANSPORT_SIGNING]
    print(f"  first read signed, the transport's signing ({us[TRANSPORT_SIGNING]:.0f} µs alone) taken off: "
          f"{gateway:.0f} µs, {gateway / us[STATUS_FIRST]:.2f}× the unsigned first read; the gateway's signing per "
          f"SOAP call: {gateway - us[STATUS_FIRST]:.0f} µs")  # fmt: skip
    inline = us[STATUS_FIRST_TRANSPORT_SIGNS] - us[STATUS_FIRST]
    gateway = us[STATUS_FIRST_SIGNED] - inline
    print(f"  the same with the transport's signing as it costs in the read (+{inline:.0f} µs, signing off over it): "
          f"{gateway:.0f} µs, {gateway / us[STATUS_FIRST]:.2f}× the unsigned first read; the gateway's signing per "
          f"SOAP call: {gateway - us[STATUS_FIRST]:.0f} µs")  # fmt: skip


SAMPLE_ANSWER = contracts.path("samples", "fund", "GetInsuranceStatus.response.xml").read_bytes()


def _recorded(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers["Content-Type"] = "text/xml; charset=utf-8"
    return response


def zeep_call(reference: Any) -> Any:
    """GetInsuranceStatus through zeep's own service proxy, read by the adapter's reader."""
    answer = call(reference, Source.FUND, "GetInsuranceStatus", MessageId="bench-1", Enp=ENP)
    return read_policy(answer.Policy)


def compiled_message(fund: FundAdapter, signed: SignedAnswer | None = None) -> Any:
    """Build the request and read the recorded answer with the compiled codec, plugins and XSD check included.

    `signed`: the adapter signs, and reads the pre-signed answer as the answer to the request in flight.
    """
    service = fund._service
    operation = fund._client.operations["GetInsuranceStatus"]
    envelope, _ = service.request(operation, {"MessageId": "bench-1", "Enp": ENP})
    etree.tostring(envelope)
    return read_policy(service.reply(operation, _recorded(_answer_of(signed))).Policy)


def zeep_message(fund: FundAdapter, signed: SignedAnswer | None = None) -> Any:
    """The same with zeep's binding: create the message, process the reply."""
    client = fund._client._client
    binding = client.wsdl.bindings[FUND.binding]
    envelope, _ = binding._create("GetInsuranceStatus", (), {"MessageId": "bench-1", "Enp": ENP}, client=client,
                                  options={"address": ADDRESS})  # fmt: skip
    etree.tostring(envelope)
    answer = binding.process_reply(client, binding.get("GetInsuranceStatus"), _recorded(_answer_of(signed)))
    return read_policy(answer.Policy)


def _answer_of(signed: SignedAnswer | None) -> bytes:
    """The answer to read: the recorded one, or the pre-signed one with the request in flight set to its own."""
    if signed is None:
        return SAMPLE_ANSWER
    _in_flight.set(_Sent(ADDRESS, RELATES_TO))
    return signed.body


def fresh_request(fund: FundAdapter) -> etree._Element:
    """A GetInsuranceStatus request envelope as the codec builds it, before any plugin (so unsigned)."""
    return fund._service.envelope(fund._client.operations["GetInsuranceStatus"], {"MessageId": "bench-1", "Enp": ENP})


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
    answer = etree.fromstring(SAMPLES["GetInsuranceStatus"], parser=parser)
    return str(answer.findtext(".//{urn:epolicy:common:v1}Status"))


if __name__ == "__main__":
    raise SystemExit(main())
