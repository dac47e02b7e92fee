"""A soak: concurrent clients submit applications over HTTP while faults hit the back-ends at random.

Bounded in count and time, loopback only. `make test` runs a small one; `make soak` a bigger one
(EPOLICY_SOAK_APPLICATIONS, EPOLICY_SOAK_CLIENTS).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.people import new_snils
from tests.support.report import REPORT
from tests.support.stack import Stack, running_stack

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

APPLICATIONS = int(os.environ.get("EPOLICY_SOAK_APPLICATIONS", "40"))
CLIENTS = int(os.environ.get("EPOLICY_SOAK_CLIENTS", "6"))
FAULTS = ("http_500", "technical_fault", "malformed_xml", "drop", "timeout", "slow")
TARGETS = {
    "fund": ("VerifyPerson", "RegisterPolicy", "*"),
    "insurers/77001": ("IssuePolicy", "*"),
    "insurers/50001": ("IssuePolicy", "*"),
}
# One in five asks 50001 for a plastic card, which it does not issue: the right end is a rejection.
REFUSED_SHARE = 5
DEADLINE_SECONDS = 240


def body(index: int, snils: str) -> dict[str, Any]:
    """A valid applicant; every REFUSED_SHARE-th one asks for a form the insurer refuses."""
    refused = index % REFUSED_SHARE == 0
    return {
        "relation": "self",
        "region_code": "50" if refused else "77",
        "insurer_code": "50001" if refused else "77001",
        "policy_form": "plastic" if refused else "electronic",
        "person": {
            "last_name": "Соколова",
            "first_name": "Мария",
            # Born 1985-1997 and a passport of 2019: issued after 20, not yet due at 45.
            "birth_date": f"19{85 + index % 13}-0{1 + index % 9}-1{index % 10}",
            "sex": "female",
            "citizenship": "RUS",
            "snils": snils,
            "identity_document": {
                "type": "passport_rf",
                "series": f"{4000 + index % 999:04d}",
                "number": f"{random.randint(1, 999_999):06d}",
                "issue_date": "2019-06-01",
            },
        },
    }


def submit(stack: Stack, index: int) -> tuple[str, bool]:
    """Apply as a citizen of one's own; return the application's address and whether it should be refused."""
    snils = new_snils()
    token = stack.token(f"soak-{uuid.uuid4().hex[:10]}", snils, scope="epolicy.apply epolicy.read")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    application = body(index, snils)  # one body for every retry: the same key with another body is refused
    for _ in range(5):
        answer = requests.post(f"{stack.gateway}/api/v1/applications", json=application, headers=headers, timeout=10)
        if answer.status_code == 202:
            return f"{stack.gateway}{answer.headers['Location']}|{token}", index % REFUSED_SHARE == 0
        time.sleep(0.2)  # the same key makes a retry safe
    raise AssertionError(f"submission {index} failed: {answer.status_code} {answer.text}")


def inject_at_random(stack: Stack, stop: threading.Event, rng: random.Random) -> int:
    """Add a random fault for a few calls every now and then, until stopped; return how many were added."""
    added = 0
    while not stop.wait(0.15):
        target = rng.choice(sorted(TARGETS))
        fault = rng.choice(FAULTS)
        rule: dict[str, Any] = {
            "target": target,
            "operation": rng.choice(TARGETS[target]),
            "fault": fault,
            "count": rng.randint(1, 3),
        }
        if fault in ("timeout", "slow"):
            rule["delay_ms"] = 1500 if fault == "timeout" else 300
        if requests.post(f"{stack.mocks}/mock/faults", json=rule, timeout=5).status_code == 201:
            added += 1
    return added


def final_state(entry: str) -> dict[str, Any]:
    location, token = entry.split("|")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        answer = requests.get(location, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        if answer["status"] in ("issued", "rejected", "cancelled"):
            return dict(answer)
        time.sleep(0.2)
    return dict(answer)


def test_concurrent_clients_under_random_faults_end_every_application_right(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    started = time.monotonic()
    with running_stack(
        tmp_path,
        EPOLICY_RATELIMIT_ENABLED="false",  # the soak is about faults, not about throttling its own clients
        EPOLICY_RETRY_MAX_ATTEMPTS="1000",
        EPOLICY_WORKER_THREADS="4",
    ) as stack:
        stop = threading.Event()
        with ThreadPoolExecutor(1) as chaos:
            injected = chaos.submit(inject_at_random, stack, stop, rng)
            try:
                with ThreadPoolExecutor(CLIENTS) as clients:
                    submitted = list(clients.map(lambda i: submit(stack, i), range(APPLICATIONS)))
                time.sleep(1.0)
            finally:
                stop.set()  # the chaos ends whatever happened to the clients
            faults = injected.result()
        requests.delete(f"{stack.mocks}/mock/faults", timeout=5)
        with ThreadPoolExecutor(CLIENTS) as clients:
            finals = list(clients.map(final_state, [entry for entry, _ in submitted]))
        stats = requests.get(f"{stack.mocks}/mock/stats", timeout=5).json()
    expected = ["rejected" if refused else "issued" for _, refused in submitted]
    actual = [final["status"] for final in finals]
    right = sum(1 for want, got in zip(expected, actual, strict=True) if want == got)
    technical = [f for f in finals if f["rejection"] and f["rejection"]["reasons"][0]["code"] == "TECHNICAL_ERROR"]
    retried = sum(1 for final in finals if any("повтор" in (entry.get("note") or "") for entry in final["history"]))
    issued = expected.count("issued")
    REPORT.extend(
        [
            f"soak: {APPLICATIONS} applications from {CLIENTS} concurrent clients, {faults} random faults injected, "
            f"{time.monotonic() - started:.1f} s",
            f"  finished in their right state {right:>6}",
            f"  of them retried after a fault {retried:>6}",
            f"  lost (not final)              {sum(1 for s in actual if s not in ('issued', 'rejected')):>6}",
            f"  registrations at the fund     {stats['registrations']:>6}  (issued: {issued})",
        ]
    )
    assert actual == expected
    assert technical == [], "an outage must never become a rejection"
    for final in finals:
        if final["status"] == "rejected":
            assert final["rejection"]["reasons"][0]["code"] == "POLICY_FORM_NOT_ISSUED"
    assert stats["registrations"] == issued, "each issued application registered exactly once"
    assert faults > 0
