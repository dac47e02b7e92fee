"""Benchmark 3: application pipeline throughput, from `accepted` to `issued`, through the real worker threads.

Each run submits N applications through the submission use case and stores them as `POST /api/v1/applications`
does (application, history and outbox row in one transaction), then starts the gateway's worker pool, built by
the composition root, and times it carrying every application through the mock fund and insurers over SOAP on
loopback: VerifyPerson, IssuePolicy, RegisterPolicy. The mocks run in a child process, as the back-ends run on
other machines; they are reset before each run, and their call counts (GET /mock/stats) give the SOAP calls per
application. Runs on SQLite (a temporary file) and PostgreSQL (a scratch schema, dropped afterwards), with 1, 2
and 4 workers.

Every message is signed and checked (contracts/signing/README.md), with development keys made for the run: the
gateway's, and one for each target the mocks answer for. The mocks always check and sign; the recorded back-ends
run both ways, signing their answers for a gateway that checks them and not for one whose signing is off
(`signing_enabled=False`), so that what signing costs the gateway per application is measured side by side.

Run: `.venv/bin/python -m bench.pipeline [--quick]` (or `make bench`). PostgreSQL: EPOLICY_BENCH_POSTGRESQL_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test; unreachable, its lines say so.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from adapters.signing import development_keys
from gateway.bootstrap import Services, build_services
from gateway.config import Settings
from gateway.domain.applications import Owner
from gateway.domain.model import Document, DocumentType, NewPolicyRequest, Person, PolicyForm, Relation, Sex
from gateway.domain.reference import load_reference
from gateway.storage import upgrade
from gateway.storage.tables import application_history, applications, outbox
from gateway.usecases.submission import new_application
from gateway.worker import worker_pool
from tests.support.people import snils_check

POSTGRESQL_URL = os.environ.get("EPOLICY_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKER_COUNTS = (1, 2, 4)
# A run that has not finished by then is reported as such (an outage in the mocks, a stuck worker).
RUN_DEADLINE_SECONDS = 600
LAST_NAMES = ("Соколова", "Морозова", "Васильева", "Кузнецова", "Попова", "Смирнова")
FIRST_NAMES = ("Мария", "Анна", "Елена", "Ольга")


class Unavailable(Exception):
    """The database of a run cannot be reached."""


@dataclass(frozen=True)
class Outcome:
    """One run: how fast the workers carried the applications, and what it cost the back-ends."""

    database: str
    workers: int
    submitted: int
    issued: int
    seconds: float
    cpu_seconds: float  # of this process, every thread: the gateway's part of the work
    calls: dict[str, int]  # operation -> calls over the run, every target summed
    mocks_cpu_seconds: float = 0.0  # of the mocks' process over the run: the back-ends' part
    signed: bool = True  # the gateway signs its requests and checks the answers

    @property
    def mocks_cpu_per_application(self) -> float:
        return self.mocks_cpu_seconds / self.submitted

    @property
    def per_second(self) -> float:
        return self.issued / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_application(self) -> float:
        return self.cpu_seconds / self.submitted

    @property
    def calls_per_application(self) -> float:
        return sum(self.calls.values()) / self.submitted


# --- signing keys -------------------------------------------------------------------------------------------------

GATEWAY_KEY = "gateway"


def targets() -> list[str]:
    """The key names of the back-ends' targets: the fund, the Kazakh fund and every insurer the gateway knows."""
    return ["fund", "kz-fund", *(f"insurers-{code}" for code in sorted(load_reference().insurers))]


@contextmanager
def keys_folder() -> Iterator[Path]:
    """Development keys of the gateway and of every target (`<name>.key`, `<name>.pem`), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="epolicy-bench-keys-") as folder:
        keys = Path(folder)
        for name in (GATEWAY_KEY, *targets()):
            development_keys(keys, name)
        yield keys


def signing_settings(keys: Path | None) -> dict[str, Any]:
    """The gateway's signing settings over these keys; None: signing switched off."""
    if keys is None:
        return {"signing_enabled": False}
    return {
        "signing_key": str(keys / f"{GATEWAY_KEY}.key"),
        "signing_certificate": str(keys / f"{GATEWAY_KEY}.pem"),
        "fund_trusted_certificates": str(keys / "fund.pem"),
        "kz_fund_trusted_certificates": str(keys / "kz-fund.pem"),
        "insurer_trusted_certificates_template": str(keys / "insurers-{code}.pem"),
    }


def signing_environment(keys: Path | None) -> dict[str, str]:
    """The same settings as `epolicy worker` reads them from its environment."""
    return {
        f"EPOLICY_{name.upper()}": str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in signing_settings(keys).items()
    }


# --- the mocks in a child process ---------------------------------------------------------------------------------


# Run by a child interpreter: only the installed packages are needed there, whatever the working folder.
# waitress, not werkzeug's development server: that one closes the connection after every answer, and a real
# back-end keeps it alive, so the gateway's CPU per application would count a TCP connect per SOAP call.
MOCKS_CHILD = """
from waitress.server import create_server
from mocks.app import create_app
server = create_server(create_app(), host="127.0.0.1", port=0, threads=8)
print(server.effective_port, flush=True)
server.run()
"""


# Back-ends that answer every call with its recorded envelope of contracts/samples, at almost no cost: with them the
# gateway's own work is what limits the pipeline, not the mocks' (which check, store and build every answer). Given
# keys (EPOLICY_BENCH_SIGNING_KEYS), each answer is signed by its target's key for the request it answers, whose
# wsa:MessageID is found in its bytes; the request's own signature is not checked (the gateway's cost is measured).
RECORDED_CHILD = """
import json, os, re, threading
from lxml import etree
from waitress.server import create_server
import contracts
from adapters.signing import Identity, sign
samples = {kind: {path.name.removesuffix(".response.xml"): path.read_bytes()
                  for path in contracts.path("samples", kind).glob("*.response.xml")} for kind in ("fund", "insurer")}
keys = os.environ.get("EPOLICY_BENCH_SIGNING_KEYS")
identities, message_id = {}, re.compile(rb"<(?:[\\w.-]+:)?MessageID\\b[^>]*>\\s*(urn:uuid:[0-9a-fA-F-]+)\\s*<")
def signed(target, body, request):
    name = target.replace("/", "-")
    if name not in identities:
        identities[name] = Identity.load(f"{keys}/{name}.key", f"{keys}/{name}.pem")
    root = etree.fromstring(body)
    sign(root, identities[name], relates_to=message_id.search(request).group(1).decode())
    return etree.tostring(root)
calls, lock = {}, threading.Lock()
def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/mock/"):
        if path == "/mock/reset":
            with lock:
                calls.clear()
        body = json.dumps({"calls": calls}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    request = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    operation = environ.get("HTTP_SOAPACTION", "").strip('"').rsplit("/", 1)[-1]
    target = "fund" if path == "/fund" else path.strip("/")
    with lock:
        calls.setdefault(target, {}).setdefault(operation, 0)
        calls[target][operation] += 1
    body = samples["fund" if target == "fund" else "insurer"][operation]
    if keys:
        body = signed(target, body, request)
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
server = create_server(app, host="127.0.0.1", port=0, threads=8)
print(server.effective_port, flush=True)
server.run()
"""

# The process id of the mocks being served, so that a run can tell what the back-ends' CPU was.
MOCKS_PID: list[int] = []


@contextmanager
def mocks_process(keys: Path | None, program: str = MOCKS_CHILD) -> Iterator[str]:
    """The base URL of fresh back-ends (the mocks, or RECORDED_CHILD) served by a child process for the block.

    `keys`: the targets sign with their keys there, and the mocks take requests signed by the gateway's; None: the
    recorded back-ends answer unsigned (the mocks have no such mode).
    """
    environment = dict(os.environ)
    if keys is not None:
        environment["EPOLICY_MOCKS_SIGNING_KEYS"] = str(keys)
        environment["EPOLICY_MOCKS_TRUSTED_CERTIFICATES"] = str(keys / f"{GATEWAY_KEY}.pem")
        environment["EPOLICY_BENCH_SIGNING_KEYS"] = str(keys)
    command = [sys.executable, "-c", program]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)  # noqa: S603
    try:
        assert child.stdout is not None
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the mocks did not start (exit code {child.poll()})")
        MOCKS_PID[:] = [child.pid]
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(10)


# --- databases ----------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A migrated SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="epolicy-bench-") as folder:
        url = f"sqlite:///{folder}/gateway.sqlite3"
        upgrade(url)
        yield url


@contextmanager
def postgresql_schema(server_url: str = POSTGRESQL_URL, prefix: str = "epolicy_bench") -> Iterator[str]:
    """A URL whose connections work in a new, migrated schema; the schema is dropped afterwards.

    Unavailable when the server does not answer.
    """
    admin = create_engine(server_url, connect_args={"connect_timeout": 3})
    schema = f"{prefix}_{secrets.token_hex(4)}"
    try:
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as error:
            raise Unavailable(" ".join(str(error.orig).split())) from error
        try:
            url = f"{server_url}?options=-csearch_path%3D{schema}"
            upgrade(url)
            yield url
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


# --- one run ------------------------------------------------------------------------------------------------------


def services_for(database_url: str, mocks: str, workers: int, keys: Path | None) -> Services:
    """The worker's services as `epolicy worker` builds them, over this database and the mocks, signing with
    `keys` (None: signing off)."""
    settings = Settings(
        database_url=database_url,
        database_pool_size=workers + 2,
        fund_url=f"{mocks}/fund",
        kz_fund_url=f"{mocks}/kz/fund",
        insurer_url_template=f"{mocks}/insurers/{{code}}",
        **signing_settings(keys),
    )
    return build_services(settings)


def applicant(index: int) -> NewPolicyRequest:
    """A citizen of the RF applying for their own policy, unknown to the fund, a different one for every index."""
    # Born 1985-1997, passport of 2019: issued after 20 and not yet due for a change at 45.
    first9 = f"{300_000_000 + index * 7919 % 600_000_000:09d}"
    person = Person(
        last_name=LAST_NAMES[index % len(LAST_NAMES)],
        first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
        middle_name="Ивановна",
        birth_date=date(1985 + index % 13, 1 + index % 12, 1 + index % 28),
        sex=Sex.FEMALE,
        citizenship="RUS",
        birth_place="г. Москва",
        snils=first9 + snils_check(first9),
        identity_document=Document(
            DocumentType.PASSPORT_RF, f"{index % 1_000_000:06d}", date(2019, 6, 1), f"{4000 + index // 1_000_000:04d}"
        ),
    )
    return NewPolicyRequest(Relation.SELF, person, "77", ("77001", "77002")[index % 2], PolicyForm.ELECTRONIC)


def submit(services: Services, count: int, first: int) -> None:
    """`count` applications through the submission use case, stored as the API stores them."""
    context = services.submission
    for index in range(first, first + count):
        request = applicant(index)
        # Each applies for themself, so the token's СНИЛС is the applicant's.
        application = new_application(request, Owner(f"bench-{index}", request.person.snils), context)
        services.store.add(application)


def mock_calls(mocks: str) -> dict[str, int]:
    """SOAP calls the mocks answered so far, by operation, every target summed."""
    answer: dict[str, Any] = requests.get(f"{mocks}/mock/stats", timeout=10).json()
    calls: dict[str, int] = {}
    for operations in answer["calls"].values():
        for operation, count in operations.items():
            calls[operation] = calls.get(operation, 0) + int(count)
    return calls


def run(database: str, url: str, mocks: str, workers: int, count: int, first: int, keys: Path | None) -> Outcome:
    """Submit `count` applications, then time `workers` worker threads carrying them all to a final status."""
    requests.post(f"{mocks}/mock/reset", timeout=10).raise_for_status()
    services = services_for(url, mocks, workers, keys)
    engine = services.engine
    assert engine is not None
    try:
        submit(services, count, first)
        before = mock_calls(mocks)
        defaults = Settings()
        pool = worker_pool(
            services.worker_context,
            workers,
            defaults.worker_poll_seconds,
            defaults.worker_lease_seconds,
            defaults.worker_batch,
        )
        started, cpu, mocks_cpu = datetime.now(UTC), time.process_time(), _mocks_cpu()
        pool.start()
        try:
            _wait_for_empty_outbox(engine)
        finally:
            pool.stop()
            if services.journal is not None:
                services.journal.close()  # its last notes, counted in the run, written before the database goes
            cpu, mocks_cpu = time.process_time() - cpu, _mocks_cpu() - mocks_cpu
        return _outcome(database, workers, count, engine, started, (cpu, mocks_cpu), before, mocks, keys is not None)
    finally:
        engine.dispose()


def _outcome(
    label: str,
    workers: int,
    count: int,
    engine: Any,
    started: datetime | None,
    cpu: tuple[float, float],
    before: dict[str, int],
    mocks: str,
    signed: bool,
) -> Outcome:
    """A finished run, as the workers stamped it in the database, from `started` (None: their first step)."""
    with engine.connect() as connection:
        if started is None:
            started = connection.execute(
                select(func.min(application_history.c.at)).where(application_history.c.status == "verifying")
            ).scalar_one()
        # The moment the last application reached its final status.
        finished = connection.execute(select(func.max(applications.c.updated_at))).scalar_one()
        issued = connection.execute(
            select(func.count()).select_from(applications).where(applications.c.status == "issued")
        ).scalar_one()
    after = mock_calls(mocks)
    calls = {operation: after[operation] - before.get(operation, 0) for operation in after}
    seconds = (finished - started).total_seconds()
    return Outcome(label, workers, count, int(issued), seconds, cpu[0], {op: n for op, n in calls.items() if n},
                   cpu[1], signed)  # fmt: skip


# --- worker processes ---------------------------------------------------------------------------------------------

PROCESS_COUNTS = (1, 2, 4)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def worker_processes(
    url: str, mocks: str, count: int, folder: Path, keys: Path | None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `epolicy worker --threads 1` processes on this database and the mocks, each started and idle."""
    environment = {
        **os.environ,
        "EPOLICY_DATABASE_URL": url,
        "EPOLICY_FUND_URL": f"{mocks}/fund",
        "EPOLICY_KZ_FUND_URL": f"{mocks}/kz/fund",
        "EPOLICY_INSURER_URL_TEMPLATE": f"{mocks}/insurers/{{code}}",
        "EPOLICY_WORKER_POLL_SECONDS": "0.05",
        **signing_environment(keys),
    }
    command = [str(Path(sys.executable).with_name("epolicy")), "worker", "--threads", "1"]
    logs = [folder / f"worker-{number}.log" for number in range(count)]
    children = []
    try:
        for log in logs:
            with log.open("wb") as output:
                children.append(subprocess.Popen(command, env=environment, stderr=output, stdout=output))  # noqa: S603
        deadline = time.monotonic() + 60
        while not all("started" in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline or any(child.poll() is not None for child in children):
                raise RuntimeError("the worker processes did not start: " + logs[0].read_text(errors="replace"))
            time.sleep(0.05)
        yield children
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(30)


def run_processes(
    database: str, url: str, mocks: str, processes: int, count: int, first: int, keys: Path | None
) -> Outcome:
    """Submit `count` applications to `processes` idle worker processes and time them carrying all of them."""
    requests.post(f"{mocks}/mock/reset", timeout=10).raise_for_status()
    services = services_for(url, mocks, 1, keys)
    engine = services.engine
    assert engine is not None
    try:
        before = mock_calls(mocks)
        with (
            tempfile.TemporaryDirectory(prefix="epolicy-bench-") as folder,
            worker_processes(url, mocks, processes, Path(folder), keys) as children,
        ):
            idle = [_cpu_seconds(child.pid) for child in children]
            submit(services, count, first)
            mocks_cpu = _mocks_cpu()
            _wait_for_empty_outbox(engine)
            cpu = sum(_cpu_seconds(child.pid) - at for child, at in zip(children, idle, strict=True))
            mocks_cpu = _mocks_cpu() - mocks_cpu
        # From the first step a worker took: the processes started before, idle.
        label = f"{database} (processes)"
        return _outcome(label, processes, count, engine, None, (cpu, mocks_cpu), before, mocks, keys is not None)
    finally:
        engine.dispose()


def _mocks_cpu() -> float:
    return _cpu_seconds(MOCKS_PID[0]) if MOCKS_PID else 0.0


def _wait_for_empty_outbox(engine: Any) -> None:
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(select(func.count()).select_from(outbox)).scalar_one() == 0:
                return
            connection.rollback()  # a fresh snapshot for the next look
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer applications per run, for a quick look")
    args = parser.parse_args(argv)
    count = 60 if args.quick else 400

    outcomes: list[Outcome] = []
    unavailable: dict[str, str] = {}
    with keys_folder() as keys:
        first = mocks_runs(keys, count, outcomes, unavailable)
        for signing in (keys, None):
            first = recorded_runs(signing, count, first, outcomes, unavailable)
    report(outcomes, unavailable, count)
    return 0


def mocks_runs(keys: Path, count: int, outcomes: list[Outcome], unavailable: dict[str, str]) -> int:
    """The runs over the mocks, signed (the mocks always check and sign); the next applicant's index."""
    first = 0
    with mocks_process(keys) as mocks:
        # Warm-up, not reported: loads the WSDLs and the mocks' schemas, and opens the first connections.
        with sqlite_database() as url:
            run("warm-up", url, mocks, 2, 8, first, keys)
            first += 8
        for workers in WORKER_COUNTS:
            with sqlite_database() as url:
                outcomes.append(run("SQLite", url, mocks, workers, count, first, keys))
            first += count
        for processes in PROCESS_COUNTS:
            with sqlite_database() as url:
                outcomes.append(run_processes("SQLite", url, mocks, processes, count, first, keys))
            first += count
        try:
            for workers in WORKER_COUNTS:
                with postgresql_schema() as url:
                    outcomes.append(run("PostgreSQL", url, mocks, workers, count, first, keys))
                first += count
            for processes in PROCESS_COUNTS:
                with postgresql_schema() as url:
                    outcomes.append(run_processes("PostgreSQL", url, mocks, processes, count, first, keys))
                first += count
        except Unavailable as error:
            unavailable["PostgreSQL"] = str(error)
    return first


def recorded_runs(
    keys: Path | None, count: int, first: int, outcomes: list[Outcome], unavailable: dict[str, str]
) -> int:
    """The runs over the recorded back-ends, signed with `keys` or not at all; the next applicant's index."""
    label = "recorded, signed" if keys is not None else "recorded, unsigned"
    with mocks_process(keys, RECORDED_CHILD) as recorded:
        for processes in PROCESS_COUNTS:
            with sqlite_database() as url:
                outcome = run_processes("SQLite", url, recorded, processes, count, first, keys)
                outcomes.append(replace(outcome, database=f"SQLite (processes, {label})"))
            first += count
        try:
            for processes in PROCESS_COUNTS:
                with postgresql_schema() as url:
                    outcome = run_processes("PostgreSQL", url, recorded, processes, count, first, keys)
                    outcomes.append(replace(outcome, database=f"PostgreSQL (processes, {label})"))
                first += count
        except Unavailable as error:
            unavailable["PostgreSQL"] = str(error)
    return first


def report(outcomes: list[Outcome], unavailable: dict[str, str], count: int) -> None:
    """The table and its ratios."""
    print(f"\nApplication pipeline, accepted → issued through the mocks over SOAP on loopback, {count} applications "
          f"per run\n")  # fmt: skip
    print(f"  {'database':<42} {'workers':>7} {'applications/s':>15} {'issued':>9} {'gateway CPU/app':>16} "
          f"{'mocks CPU/app':>14} {'SOAP calls/app':>15}")  # fmt: skip
    for outcome in outcomes:
        operations = ", ".join(f"{op} {n / outcome.submitted:.2f}" for op, n in sorted(outcome.calls.items()))
        issued = f"{outcome.issued}/{outcome.submitted}"
        print(f"  {outcome.database:<42} {outcome.workers:>7} {outcome.per_second:>15.1f} {issued:>9} "
              f"{outcome.cpu_per_application * 1e3:>13.1f} ms {outcome.mocks_cpu_per_application * 1e3:>11.1f} ms"
              f" {outcome.calls_per_application:>15.2f}"
              f"   ({operations})")  # fmt: skip
    for database, reason in unavailable.items():
        print(f"  {database:<42} unavailable: {reason}")
    print()
    by_key = {(outcome.database, outcome.workers): outcome for outcome in outcomes}
    for database in dict.fromkeys(outcome.database for outcome in outcomes):
        one = by_key.get((database, 1))
        if one is None or one.per_second == 0:
            continue
        scaling = ", ".join(
            f"{workers} {by_key[(database, workers)].per_second / one.per_second:.2f}×"
            for workers in WORKER_COUNTS[1:]
            if (database, workers) in by_key
        )
        print(f"  {database}, throughput next to 1 worker: {scaling} (target ≥ 1: more workers are never slower)")
    for database in ("SQLite (processes)", "SQLite (processes, recorded, signed)",
                     "SQLite (processes, recorded, unsigned)"):  # fmt: skip
        pair = by_key.get((database, 2))
        if pair is not None:
            print(f"  {database}, 2 worker processes: {pair.per_second:.0f} applications/s (target ≥ 250), "
                  f"{pair.cpu_per_application * 1e3:.1f} ms gateway CPU per application (target ≤ 4 ms)")  # fmt: skip
    sqlite, postgresql = by_key.get(("SQLite", WORKER_COUNTS[-1])), by_key.get(("PostgreSQL", WORKER_COUNTS[-1]))
    if sqlite is not None and postgresql is not None and sqlite.per_second:
        print(f"  PostgreSQL / SQLite at {WORKER_COUNTS[-1]} workers: {postgresql.per_second / sqlite.per_second:.2f}×")
    report_signing(by_key)
    worst = max((outcome.calls_per_application for outcome in outcomes), default=0.0)
    print(f"  SOAP calls per application, most in any run: {worst:.2f} (target 3: VerifyPerson, IssuePolicy and "
          f"RegisterPolicy once each, no step repeated)")  # fmt: skip


def report_signing(by_key: dict[tuple[str, int], Outcome]) -> None:
    """Signed next to unsigned over the recorded back-ends: throughput, and the gateway's CPU per application and
    per SOAP call."""
    for database in ("SQLite", "PostgreSQL"):
        for processes in PROCESS_COUNTS:
            signed = by_key.get((f"{database} (processes, recorded, signed)", processes))
            unsigned = by_key.get((f"{database} (processes, recorded, unsigned)", processes))
            if signed is None or unsigned is None or not unsigned.per_second or not signed.calls_per_application:
                continue
            extra = signed.cpu_per_application - unsigned.cpu_per_application
            per_call = extra / signed.calls_per_application
            print(f"  {database}, {processes} worker processes, signed / unsigned (recorded back-ends): "
                  f"{signed.per_second / unsigned.per_second:.2f}× the applications/s, "
                  f"{signed.cpu_per_application / unsigned.cpu_per_application:.2f}× the gateway CPU per application "
                  f"(+{extra * 1e3:.1f} ms, {per_call * 1e6:.0f} µs per SOAP call)")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
