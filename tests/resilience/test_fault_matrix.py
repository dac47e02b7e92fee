"""Every back-end operation the worker uses × every kind of fault: nothing rejected, lost or issued twice.

Real SOAP adapters with a short timeout against the mocks (a server of this module's own, so its counts are this
module's), a real SQLite store and the worker's own loop. Each fault hits twice, then the back-end recovers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.fund import FundAdapter
from adapters.insurer import InsurerDirectory
from gateway.bootstrap import Services
from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Owner
from gateway.domain.model import (
    ApplicationStatus,
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    NewPolicyRequest,
    Person,
    PolicyForm,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Sex,
)
from gateway.domain.reference import load_reference
from gateway.ids import new_application_id
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.usecases.processing import RetryPolicy
from gateway.worker import Worker
from tests.support.report import REPORT
from tests.support.services import RunningMocks, serve_mocks
from tests.support.signing import insurer_signing, signing_for
from tests.support.workers import adult

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

TIMEOUT = 0.5  # the adapters' timeout: a "timeout" answers later than this, a "slow" one just before it
FAULTS: dict[str, int] = {
    "timeout": 900,
    "drop": 0,
    "http_500": 0,
    "technical_fault": 0,
    "malformed_xml": 0,
    "slow": 350,
    # An answer that is not believed (contracts/signing/README.md): the operation was carried out, its answer is
    # not read, the worker asks again with the same MessageId.
    "bad_signature": 0,
    "unsigned": 0,
    "untrusted_signer": 0,
    "stale_timestamp": 0,
}
INSURER = "77001"
# (operation, target, the kind of application that makes the worker call it)
OPERATIONS = [
    ("VerifyPerson", "fund", "new"),
    ("FindPerson", "fund", "replacement"),
    ("IssuePolicy", f"insurers/{INSURER}", "new"),
    ("IssuePolicyOnBehalf", f"insurers/{INSURER}", "child"),
    ("ReplacePolicy", f"insurers/{INSURER}", "replacement"),
    ("RegisterPolicy", "fund", "new"),
]


@dataclass
class Outcome:
    operation: str
    fault: str
    application: Application | None
    registrations: int
    retried: bool


@pytest.fixture(scope="module")
def mocks() -> Iterator[RunningMocks]:
    server, thread = serve_mocks()
    yield RunningMocks(f"http://127.0.0.1:{server.port}", server)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def worker(tmp_path: Path, mocks: RunningMocks) -> Iterator[Worker]:
    url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    upgrade(url)
    engine = make_engine(url, pool_size=2)
    fund = FundAdapter(mocks.fund_url, timeout=TIMEOUT, signing=signing_for(mocks.fund_url))
    services = Services(
        catalogue=Catalogue.load(),
        reference=load_reference(),
        store=SqlApplicationStore(engine),
        fund=fund,
        worker_fund=fund,
        insurers=InsurerDirectory(
            {INSURER: mocks.insurer_url(INSURER)},
            timeout=TIMEOUT,
            signing=insurer_signing({INSURER: mocks.insurer_url(INSURER)}),
        ),
        retry=RetryPolicy(0.01, 0.1),
    )
    yield Worker(services.worker_context, "faults", poll_seconds=0.01, lease_seconds=30, batch=5)
    engine.dispose()


def new_request() -> NewPolicyRequest:
    return NewPolicyRequest(Relation.SELF, adult(), "77", INSURER, PolicyForm.ELECTRONIC)


def child_request() -> NewPolicyRequest:
    parent = adult()
    born = date.today() - timedelta(days=365 * 8)
    number = str(int(parent.snils or "0") % 1_000_000).zfill(6)
    child = Person(
        last_name=parent.last_name,
        first_name="Лев",
        birth_date=born,
        sex=Sex.MALE,
        citizenship="RUS",
        identity_document=Document(DocumentType.BIRTH_CERTIFICATE_RF, number, born + timedelta(days=5), "IV-МЮ"),
    )
    representative = Representative(
        last_name=parent.last_name,
        first_name=parent.first_name,
        middle_name=parent.middle_name,
        birth_date=parent.birth_date,
        identity_document=parent.identity_document,
        authority=Authority(AuthorityType.PARENT),
        snils=parent.snils,
    )
    return NewPolicyRequest(Relation.CHILD, child, "77", INSURER, PolicyForm.ELECTRONIC, representative=representative)


def submit(worker: Worker, request: NewPolicyRequest | ReplacementRequest) -> str:
    application = Application.accept(new_application_id(), Owner("fault-matrix"), request, datetime.now(UTC))
    worker.context.store.add(application)
    return application.id


def drain(worker: Worker, application_id: str, seconds: float = 15) -> Application | None:
    """Run the worker's loop until the application is final (or time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = worker.context.store.get(application_id)
        if found is not None and found.status.is_final:
            return found
        if not worker.run_once():
            time.sleep(0.01)
    return worker.context.store.get(application_id)


def application_for(kind: str, worker: Worker) -> NewPolicyRequest | ReplacementRequest:
    if kind == "new":
        return new_request()
    if kind == "child":
        return child_request()
    # A replacement needs a policy: issue one first, with no fault.
    issued = drain(worker, submit(worker, new_request()))
    assert issued is not None and issued.policy is not None, issued
    return ReplacementRequest(issued.policy.enp, ReplacementReason.LOST, PolicyForm.ELECTRONIC)


def run_case(worker: Worker, mocks: RunningMocks, operation: str, target: str, kind: str, fault: str) -> Outcome:
    request = application_for(kind, worker)
    rule = {"target": target, "operation": operation, "fault": fault, "count": 2, "delay_ms": FAULTS[fault]}
    assert requests.post(f"{mocks.base_url}/mock/faults", json=rule, timeout=5).status_code == 201
    try:
        application_id = submit(worker, request)
        finished = drain(worker, application_id)
    finally:
        requests.delete(f"{mocks.base_url}/mock/faults", timeout=5)
    answer = requests.get(f"{mocks.base_url}/mock/registrations/{application_id}", timeout=5).json()
    retried = finished is not None and any("повтор" in (entry.note or "") for entry in finished.history)
    return Outcome(operation, fault, finished, int(answer["count"]), retried)


def registrations(mocks: RunningMocks) -> int:
    return int(requests.get(f"{mocks.base_url}/mock/stats", timeout=5).json()["registrations"])


def test_every_operation_survives_every_fault_and_finishes_once(worker: Worker, mocks: RunningMocks) -> None:
    started = time.monotonic()
    outcomes: list[Outcome] = []
    prepared = 0  # policies issued (with no fault) so that a replacement has one to replace
    for operation, target, kind in OPERATIONS:
        for fault in FAULTS:
            before = registrations(mocks)
            outcome = run_case(worker, mocks, operation, target, kind, fault)
            replacements = 2 if kind == "replacement" else 1  # the policy issued first, then its replacement
            prepared += replacements - 1
            app = outcome.application
            assert registrations(mocks) - before == replacements, (operation, fault, app and app.rejection)
            outcomes.append(outcome)
    elapsed = time.monotonic() - started

    def correct(outcome: Outcome) -> bool:
        app = outcome.application
        # A slow answer within the timeout is no failure: nothing to retry.
        retried_as_it_should = outcome.retried if outcome.fault != "slow" else True
        return (
            app is not None
            and app.status is ApplicationStatus.ISSUED
            and not app.rejection
            and outcome.registrations == 1
            and retried_as_it_should
        )

    lost = [o for o in outcomes if o.application is None or not o.application.status.is_final]
    twice = [o for o in outcomes if o.registrations > 1]
    wrong = [o for o in outcomes if not correct(o)]
    rows = [
        ("cases run", len(outcomes)),
        ("applications submitted", len(outcomes) + prepared),
        ("  of them under a fault", len(outcomes)),
        ("finished correctly", len(outcomes) - len(wrong)),
        ("lost", len(lost)),
        ("issued twice", len(twice)),
    ]
    _report(rows, elapsed)
    assert len(outcomes) == len(OPERATIONS) * len(FAULTS)
    assert not lost and not twice
    assert not wrong, [
        (o.operation, o.fault, o.application and o.application.status, o.application and o.application.rejection)
        for o in wrong
    ]


def _report(rows: list[tuple[str, Any]], elapsed: float) -> None:
    """The figures, shown in the terminal summary of `make test`."""
    REPORT.append(
        f"fault matrix: {len(OPERATIONS)} operations × {len(FAULTS)} faults ({', '.join(FAULTS)}), "
        f"each twice then recovered, in {elapsed:.1f} s"
    )
    REPORT.extend(f"  {name:<26}{value:>6}" for name, value in rows)
