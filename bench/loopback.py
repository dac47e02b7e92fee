"""Benchmark 2: a policy status check through the gateway over loopback, next to the mock fund's SOAP endpoint.

Both servers run in subprocesses under gunicorn on free loopback ports:

- the mocks (`mocks.app:create_app()`): one gthread worker with 8 threads, since the mock fund keeps its registry
  and its call counts in the memory of one process;
- the gateway (`gateway.wsgi:app`, SQLite in a temporary folder, rate limits off, every back-end on the mocks):
  2 gthread workers (one per core) with 8 threads each, as the production profile's defaults would give on this
  machine. gthread, not sync: sync workers close the connection after every answer (no keep-alive) and one request
  at a time blocks a whole worker while it waits for the fund; gthread keeps connections alive and overlaps that
  wait with other requests. Where the gateway keeps the fund's answers
  for a few seconds (STATUS_CACHE_SECONDS), a second gateway with that memory off runs beside it, so that both the
  repeated read (one ЕНП again and again: answered from memory) and the read that asks the fund are measured.

The same load generator drives every side with the same number of concurrent clients, each on its own keep-alive
connection (threads over `http.client`): (a) GET /api/v1/policies/{enp} on the gateway with a Bearer token, and
(b) the GetInsuranceStatus envelope the gateway sends (contracts/samples/fund, for an ЕНП the mock fund knows)
POSTed straight to the mock fund. Each side is warmed up before it is measured, and the sides take turns. A status
check that asks the fund makes more than one fund call (counted from the mock's GET /mock/stats and printed), so
(b) is the fund's own cost of one call, not of a status.

The client runs in this process and shares the machine's 2 cores with both servers: the figures compare sides on
one box over loopback, they are not a capacity figure. The client's CPU share is printed.

Run: `.venv/bin/python -m bench.loopback [--quick]`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import contracts
from bench._common import KNOWN_ENP, KeepAlive, Stack, percentile, request_once

SAMPLE = contracts.path("samples", "fund", "GetInsuranceStatus.request.xml").read_bytes()
SAMPLE_ENP = b"7754900882000015"
GATEWAY_WORKERS = 2
GATEWAY_THREADS = 8
TARGET_ADDED_P50_MS = 2.0
TARGET_THROUGHPUT_SHARE = 0.60
PROBE_REQUESTS = 50


@dataclass(frozen=True)
class Target:
    """One kind of request, sent again and again."""

    name: str
    port: int
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class Run:
    """What a load run measured; runs of one side add up."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    client_cpu: float = 0.0
    fund_calls: int = 0  # SOAP calls the mock fund counted meanwhile

    def add(self, other: Run) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.errors.update(other.errors)
        self.connects += other.connects
        self.client_cpu += other.client_cpu
        self.fund_calls += other.fund_calls

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def drive(target: Target, clients: int, seconds: float) -> Run:
    """`clients` threads, each on its own keep-alive connection, send `target` back to back for `seconds`."""
    start = threading.Event()
    deadline = [0.0]
    runs = [Run() for _ in range(clients)]
    finished = [0.0] * clients

    def client(index: int) -> None:
        run = runs[index]
        connection = KeepAlive(target.port)
        start.wait()
        try:
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    status, _ = connection.request(target.method, target.path, target.body, target.headers)
                except (OSError, http.client.HTTPException) as error:
                    run.errors[type(error).__name__] += 1
                    continue
                elapsed = time.perf_counter() - began
                if status == 200:
                    run.latencies.append(elapsed)
                else:
                    run.errors[f"HTTP {status}"] += 1
        finally:
            finished[index] = time.perf_counter()
            run.connects = connection.connects
            connection.close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = time.process_time()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for thread in threads:
        thread.join()
    total = Run(seconds=max(finished) - began, client_cpu=time.process_time() - cpu_before)
    for run in runs:
        total.latencies += run.latencies
        total.errors.update(run.errors)
        total.connects += run.connects
    return total


def direct_envelope() -> bytes:
    """The sample GetInsuranceStatus request, asking about an ЕНП the mock fund knows."""
    if SAMPLE_ENP not in SAMPLE:
        raise RuntimeError("the sample GetInsuranceStatus request no longer names the expected ЕНП")
    return SAMPLE.replace(SAMPLE_ENP, KNOWN_ENP.encode())


def fund_calls(stack: Stack) -> dict[str, int]:
    calls: dict[str, int] = stack.mock_stats()["calls"].get("fund", {})
    return calls


def gateway_variants() -> dict[str, dict[str, str]]:
    """The gateway as configured and, where it keeps fund answers for a while, the same with that memory off."""
    from gateway.config import Settings

    ttl = Settings().status_cache_seconds
    if not ttl:
        return {"gateway": {}}
    return {f"gateway, status cache {ttl:g} s": {}, "gateway, status cache off": {"EPOLICY_STATUS_CACHE_SECONDS": "0"}}


def fund_calls_per_status(stack: Stack, target: Target) -> dict[str, float]:
    """Fund SOAP calls by operation per status check, counted by the mock over PROBE_REQUESTS checks in a row."""
    before = fund_calls(stack)
    probe = KeepAlive(target.port)
    try:
        for _ in range(PROBE_REQUESTS):
            probe.request(target.method, target.path, target.body, target.headers)
    finally:
        probe.close()
    after = fund_calls(stack)
    return {name: (count - before.get(name, 0)) / PROBE_REQUESTS for name, count in sorted(after.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a quick look")
    parser.add_argument("--clients", default="4,16", help="concurrent clients, comma-separated (default 4,16)")
    args = parser.parse_args(argv)
    levels = [int(value) for value in args.clients.split(",")]
    warmup, seconds, rounds = (0.5, 2.0, 1) if args.quick else (2.0, 10.0, 3)

    with Stack(GATEWAY_WORKERS, GATEWAY_THREADS, gateway_variants()) as stack:
        token = stack.token("bench-loopback", "epolicy.eligibility")
        path = f"/api/v1/policies/{KNOWN_ENP}"
        headers = {"Authorization": f"Bearer {token}"}
        gateways = [Target(name, server.port, "GET", path, None, headers) for name, server in stack.gateways.items()]
        soap_headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"urn:epolicy:fund:v1/GetInsuranceStatus"',
        }
        direct = Target("mock fund SOAP, directly", stack.mocks_port, "POST", "/fund", direct_envelope(), soap_headers)
        for target in gateways:
            status, body = request_once(target.port, target.method, target.path, None, target.headers)
            if status != 200 or json.loads(body)["status"] != "active":
                raise RuntimeError(f"{target.name}: the status check answered {status}: {body[:300]!r}")
        status, body = request_once(direct.port, direct.method, direct.path, direct.body, direct.headers)
        if status != 200 or b"GetInsuranceStatusResponse" not in body:
            raise RuntimeError(f"the mock fund answered {status}: {body[:300]!r}")
        per_status = {target.name: fund_calls_per_status(stack, target) for target in gateways}

        results: dict[tuple[int, str], Run] = {}
        sides = [*gateways, direct]
        for clients in levels:
            for round_number in range(rounds):
                # Rotate which side goes first, so that a drift of the machine's load hits every side alike.
                shift = round_number % len(sides)
                for target in sides[shift:] + sides[:shift]:
                    drive(target, clients, warmup)
                    before = sum(fund_calls(stack).values())
                    run = drive(target, clients, seconds)
                    run.fund_calls = sum(fund_calls(stack).values()) - before
                    results.setdefault((clients, target.name), Run()).add(run)

    print(
        f"\nLoopback, gunicorn gthread (gateway {GATEWAY_WORKERS} workers × {GATEWAY_THREADS} threads, mocks 1 × 8), "
        f"keep-alive clients; {rounds} × {seconds:g} s per side and concurrency, each after {warmup:g} s warm-up\n"
    )
    print(
        f"  {'clients':>7}  {'side':<28} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'fund calls/req':>15} {'client CPU':>11}"
    )
    for clients in levels:
        for target in sides:
            run = results[(clients, target.name)]
            if not run.latencies:
                raise RuntimeError(f"no successful request to {target.name} at {clients} clients: {dict(run.errors)}")
            print(
                f"  {clients:>7}  {target.name:<28} {run.throughput:>7.0f} "
                f"{percentile(run.latencies, 0.5) * 1e3:>8.2f} {percentile(run.latencies, 0.99) * 1e3:>8.2f} "
                f"{sum(run.errors.values()):>7} {run.fund_calls / run.requests:>15.2f} "
                f"{run.client_cpu / run.seconds:>11.0%}"
            )
    print(
        "\n  (p50/p99 over successful answers; fund calls/req: SOAP calls the mock fund counted per request sent;"
        "\n  client CPU: the load generator's share of one core)\n"
    )
    for clients in levels:
        bare = results[(clients, direct.name)]
        for target in gateways:
            via = results[(clients, target.name)]
            added = (percentile(via.latencies, 0.5) - percentile(bare.latencies, 0.5)) * 1e3
            share = via.throughput / bare.throughput
            print(
                f"  {clients:>2} clients, {target.name}: added p50 {added:.2f} ms "
                f"(target ≤ {TARGET_ADDED_P50_MS:g} ms), throughput / direct {share:.0%} "
                f"(target ≥ {TARGET_THROUGHPUT_SHARE:.0%})"
            )
    print()
    for name, calls in per_status.items():
        detail = ", ".join(f"{operation} {count:g}" for operation, count in calls.items() if count) or "none"
        print(
            f"  fund SOAP calls per status check, {name}: {sum(calls.values()):g} ({detail}; "
            f"{PROBE_REQUESTS} checks of one ЕНП in a row)"
        )
    errors = Counter[str]()
    for run in results.values():
        errors.update(run.errors)
    if errors:
        print(f"  errors: {dict(errors)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
