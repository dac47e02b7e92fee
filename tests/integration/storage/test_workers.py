"""Workers over a real database and the mock back-ends over SOAP: every application finishes once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from adapters.fund import FundAdapter
from adapters.insurer import InsurerDirectory
from gateway.bootstrap import Services
from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Owner
from gateway.domain.model import NewPolicyRequest, PolicyForm, Relation
from gateway.domain.reference import load_reference
from gateway.ids import new_application_id
from gateway.storage import SqlApplicationStore
from gateway.usecases.processing import RetryPolicy
from gateway.worker import Worker
from tests.support.services import RunningMocks
from tests.support.signing import insurer_signing, signing_for
from tests.support.workers import applicant, calls, stats

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

APPLICATIONS = 40


def services(store: SqlApplicationStore, mocks: RunningMocks) -> Services:
    codes = ["77001", "77002", "50001"]
    fund = FundAdapter(mocks.fund_url, timeout=10, signing=signing_for(mocks.fund_url))
    return Services(
        catalogue=Catalogue.load(),
        reference=load_reference(),
        store=store,
        fund=fund,
        worker_fund=fund,
        insurers=InsurerDirectory(
            {code: mocks.insurer_url(code) for code in codes},
            timeout=10,
            signing=insurer_signing({code: mocks.insurer_url(code) for code in codes}),
        ),
        retry=RetryPolicy(0.05, 0.2),
    )


def test_two_workers_racing_over_one_outbox_finish_every_application_once(
    sql_store: SqlApplicationStore, mocks_server: RunningMocks
) -> None:
    ids = []
    for index in range(APPLICATIONS):
        request = NewPolicyRequest(
            Relation.SELF, applicant(), "77", ("77001", "77002")[index % 2], PolicyForm.ELECTRONIC
        )
        application = Application.accept(new_application_id(), Owner(f"user-{index}"), request, datetime.now(UTC))
        sql_store.add(application)
        ids.append(application.id)
    before = stats(mocks_server)
    context = services(sql_store, mocks_server).worker_context
    stop = threading.Event()
    workers = [Worker(context, f"racer-{n}", poll_seconds=0.02, lease_seconds=30, batch=3, stop=stop) for n in range(2)]
    threads = [threading.Thread(target=worker.run_forever) for worker in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            finished = [sql_store.get(app_id) for app_id in ids]
            if all(app is not None and app.status.is_final for app in finished):
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    finished = [sql_store.get(app_id) for app_id in ids]
    assert all(app is not None and app.status.value == "issued" for app in finished), [
        (app.id, app.status, app.rejection) for app in finished if app and app.status.value != "issued"
    ]
    for app in finished:
        assert app is not None
        assert [entry.status.value for entry in app.history if entry.note is None] == [
            "accepted",
            "verifying",
            "issuing",
            "issued",
        ], "no step ran twice"
    after = stats(mocks_server)
    assert after["registrations"] - before["registrations"] == APPLICATIONS, "one registration per application"
    # Calls, not just registrations: the fund would absorb a repeated MessageId, a double step must not happen.
    assert calls(after, "fund", "RegisterPolicy") - calls(before, "fund", "RegisterPolicy") == APPLICATIONS
    issued = sum(calls(after, f"insurers/{code}", "IssuePolicy") - calls(before, f"insurers/{code}", "IssuePolicy")
                 for code in ("77001", "77002"))  # fmt: skip
    assert issued == APPLICATIONS
    assert sql_store.claim("late", datetime.now(UTC), 30, 100) == [], "the outbox is empty"
