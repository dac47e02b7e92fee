"""Benchmark 6: a policy status read from the gateway as `make run` serves it, next to a bare Flask endpoint.

Both sides are served by the same function, `gateway.cli.waitress_server` (waitress, what `epolicy serve` runs),
with the same request threads (`epolicy serve`'s default, 16), each in a subprocess on a free loopback port:

- the gateway: `python -m gateway serve`, as `epolicy stack` starts it: the back-ends and the OAuth server on the
  mocks, SQLite in a temporary instance folder, the in-process workers, the request log at INFO in text (to a
  file), the status cache on at its default time to live, rate limits on. Their allowances are raised past what a
  run sends (a 429 is no status read), so the limiter's bookkeeping is in every request as in the stack;
- the bare endpoint: `python -m bench.served --serve-bare PORT`: a Flask app with one view answering a small JSON
  object, nothing else.

The mocks run as `epolicy mocks` does (werkzeug's threaded server, `python -m mocks`); with the status cache on the
gateway asks the fund once for the whole run. The same load generator (bench.loopback's: threads over
`http.client`, each on its own keep-alive connection) sends GET /api/v1/policies/{enp} with a Bearer token to the
gateway and GET /bare to the bare side, the sides taking turns, each warmed up first. It shares the machine's 2
cores with the servers: the ratio compares the sides on one box, it is no capacity figure.

Run: `.venv/bin/python -m bench.served [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._common import KNOWN_ENP, Server, free_port, percentile, request_once
from bench.loopback import Run, Target, drive

THREADS = 16  # `epolicy serve --threads`' default, which `epolicy stack` keeps
TARGET_SHARE = 0.25
UNREACHED = "1000000/minute"  # a rate limit no run reaches


def bare_app() -> Any:
    """The bare side: one Flask view answering a small JSON object."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/bare")
    def bare() -> Any:
        return jsonify({"enp": KNOWN_ENP, "status": "active"})

    return app


def serve_bare(port: int, threads: int) -> int:
    """Serve `bare_app` on loopback with the gateway's waitress server until killed."""
    import socket

    from gateway.cli import waitress_server

    listening = socket.create_server(("127.0.0.1", port))
    waitress_server(bare_app(), listening, threads).run()
    return 0


def start(folder: Path, mocks_port: int) -> tuple[Server, Server, Server]:
    """The mocks, the gateway and the bare side, each ready."""
    base = f"http://127.0.0.1:{mocks_port}"
    mocks = Server("mocks", [sys.executable, "-m", "mocks", "--port", str(mocks_port), "--log-level", "WARNING"],
                   os.environ, folder / "mocks.log", base)  # fmt: skip
    servers = [mocks]
    try:
        mocks.wait_ready("/oauth/jwks")
        env = dict(
            os.environ,
            EPOLICY_INSTANCE_PATH=str(folder / "instance"),
            EPOLICY_OAUTH_ISSUER=f"{base}/oauth",
            EPOLICY_FUND_URL=f"{base}/fund",
            EPOLICY_KZ_FUND_URL=f"{base}/kz/fund",
            EPOLICY_INSURER_URL_TEMPLATE=f"{base}/insurers/{{code}}",
            EPOLICY_DEMO_MARK="true",
            EPOLICY_RATELIMIT_ENABLED="true",
            EPOLICY_RATELIMIT_PER_SUBJECT=UNREACHED,
            EPOLICY_RATELIMIT_PER_CLIENT=UNREACHED,
            EPOLICY_RATELIMIT_PER_ADDRESS=UNREACHED,
        )
        env.pop("EPOLICY_DATABASE_URL", None)
        env.pop("EPOLICY_STATUS_CACHE_SECONDS", None)
        port = free_port()
        argv = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--threads", str(THREADS)]
        argv += ["--log-level", "INFO", "--log-format", "text"]
        gateway = Server("gateway", argv, env, folder / "gateway.log", f"http://127.0.0.1:{port}")
        servers.append(gateway)
        gateway.wait_ready("/healthz", seconds=60)
        port = free_port()
        argv = [sys.executable, "-m", "bench.served", "--serve-bare", str(port)]
        bare = Server("bare", argv, os.environ, folder / "bare.log", f"http://127.0.0.1:{port}")
        servers.append(bare)
        bare.wait_ready("/bare")
    except BaseException:
        for server in reversed(servers):
            server.stop()
        raise
    return mocks, gateway, bare


def token(mocks_port: int) -> str:
    """A service client's token from the mock OAuth server (it may read any ЕНП), valid for a day."""
    body = json.dumps(
        {"sub": "bench-served", "client_id": "bench-served", "scope": "epolicy.eligibility", "expires_in": 86400}
    ).encode()
    status, answer = request_once(mocks_port, "POST", "/oauth/test/token", body)
    if status != 200:
        raise RuntimeError(f"no token from the mock OAuth server: {status} {answer[:200]!r}")
    found: str = json.loads(answer)["access_token"]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a quick look")
    parser.add_argument("--clients", default="4,16", help="concurrent clients, comma-separated (default 4,16)")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return serve_bare(args.serve_bare, THREADS)
    levels = [int(value) for value in args.clients.split(",")]
    warmup, seconds, rounds = (0.5, 2.0, 1) if args.quick else (2.0, 10.0, 3)

    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="epolicy-served-"))
    mocks_port = free_port()
    servers = start(folder, mocks_port)
    try:
        _, gateway, bare = servers
        headers = {"Authorization": f"Bearer {token(mocks_port)}"}
        sides = [
            Target("gateway, status read", gateway.port, "GET", f"/api/v1/policies/{KNOWN_ENP}", None, headers),
            Target("bare Flask endpoint", bare.port, "GET", "/bare", None, {}),
        ]
        status, body = request_once(sides[0].port, "GET", sides[0].path, None, headers)
        if status != 200 or json.loads(body)["status"] != "active":
            raise RuntimeError(f"the status read answered {status}: {body[:300]!r}")
        results: dict[tuple[int, str], Run] = {}
        for clients in levels:
            for round_number in range(rounds):
                order = sides if round_number % 2 == 0 else sides[::-1]
                for target in order:
                    drive(target, clients, warmup)
                    results.setdefault((clients, target.name), Run()).add(drive(target, clients, seconds))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report(results, levels, sides, rounds, seconds)
    return 0


def report(results: dict[tuple[int, str], Run], levels: list[int], sides: list[Target], rounds: int,
           seconds: float) -> None:  # fmt: skip
    print(
        f"\nServed by waitress as `epolicy serve` runs it ({THREADS} threads), keep-alive clients; {rounds} × "
        f"{seconds:g} s per side and concurrency\n"
    )
    print(f"  {'clients':>7}  {'side':<24} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'client CPU':>11}")
    for clients in levels:
        for target in sides:
            run = results[(clients, target.name)]
            if not run.latencies:
                raise RuntimeError(f"no successful request to {target.name} at {clients} clients: {dict(run.errors)}")
            print(
                f"  {clients:>7}  {target.name:<24} {run.throughput:>7.0f} "
                f"{percentile(run.latencies, 0.5) * 1e3:>8.2f} {percentile(run.latencies, 0.99) * 1e3:>8.2f} "
                f"{sum(run.errors.values()):>7} {run.client_cpu / run.seconds:>11.0%}"
            )
    print()
    for clients in levels:
        gateway, bare = (results[(clients, target.name)] for target in sides)
        share = gateway.throughput / bare.throughput
        verdict = "met" if share >= TARGET_SHARE else "not met"
        print(
            f"  {clients:>2} clients: status read / bare endpoint throughput {share:.2f} "
            f"(target ≥ {TARGET_SHARE:g}: {verdict})"
        )


if __name__ == "__main__":
    raise SystemExit(main())
