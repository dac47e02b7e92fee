"""The stack `make run` starts signs every message and believes only signed answers (contracts/signing/README.md).

Over real HTTP on the running stack: its development keys made in its instance folder, each side trusting the
other's. A mock told to spoil the signature of its answers (`/mock/faults`) is an outage to the gateway: a read
answers 503 with the catalogue's reason, an application is carried on by the workers once the answers can be
believed again, and the message journal shows who signed each message.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests

from tests.support.stack import Stack, adult, application, apply_and_wait, citizen

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

SIGNATURE_FAULTS = ("bad_signature", "unsigned", "untrusted_signer", "stale_timestamp")


def inject(stack: Stack, **rule: Any) -> None:
    answer = requests.post(f"{stack.mocks}/mock/faults", json=rule, timeout=10)
    assert answer.status_code == 201, answer.text


def test_the_stack_made_its_development_keys_in_its_instance_folder(stack: Stack) -> None:
    keys = stack.log.parent / "keys"
    made = {path.name for path in keys.iterdir()}
    assert {"gateway.key", "gateway.pem", "fund.pem", "kz-fund.pem", "insurers-77001.pem"} <= made
    assert (keys / "gateway.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("fault", SIGNATURE_FAULTS)
def test_a_status_read_whose_answer_cannot_be_believed_is_503_and_the_next_goes_through(
    stack: Stack, fault: str
) -> None:
    api, snils = citizen(stack)
    done = apply_and_wait(api, application(adult(snils)))
    assert done["status"] == "issued", done
    enp = done["policy"]["enp"]
    inject(stack, target="fund", operation="*", fault=fault, count=1)

    failed = api.get(f"/api/v1/policies/{enp}")

    assert failed.status_code == 503, failed.text
    assert failed.headers["Content-Type"].startswith("application/problem+json")
    assert failed.json()["errors"][0]["code"] == "TECHNICAL_ERROR"
    assert "Retry-After" in failed.headers
    assert enp not in failed.text
    read = api.get(f"/api/v1/policies/{enp}")
    assert read.status_code == 200, read.text


@pytest.mark.parametrize("fault", SIGNATURE_FAULTS)
def test_an_application_whose_answers_cannot_be_believed_is_retried_and_issued_once(stack: Stack, fault: str) -> None:
    api, snils = citizen(stack)
    inject(stack, target="insurers/77001", operation="IssuePolicy", fault=fault, count=2)

    done = apply_and_wait(api, application(adult(snils)), seconds=40)

    assert done["status"] == "issued", done
    notes = [entry.get("note", "") for entry in done["history"]]
    assert any("повтор" in note for note in notes), notes
    count = requests.get(f"{stack.mocks}/mock/registrations/{done['id']}", timeout=10).json()["count"]
    assert count == 1


def test_the_journal_shows_who_signed_every_message_of_an_application(stack: Stack) -> None:
    api, snils = citizen(stack)
    done = apply_and_wait(api, application(adult(snils)))
    assert done["status"] == "issued", done
    folder = stack.log.parent
    environment = {
        "EPOLICY_INSTANCE_PATH": str(folder),
        "EPOLICY_DATABASE_URL": f"sqlite:///{folder}/epolicy.sqlite3",
        "PATH": "/usr/bin:/bin",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "gateway", "journal", done["id"]],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stdout.splitlines() if not line.startswith("    ")]
    operations = [(line.split()[1], line.split()[2], line.split()[3]) for line in lines]
    assert operations == [
        ("sent", "VerifyPerson", "signed"),
        ("received", "VerifyPerson", "verified"),
        ("sent", "IssuePolicy", "signed"),
        ("received", "IssuePolicy", "verified"),
        ("sent", "RegisterPolicy", "signed"),
        ("received", "RegisterPolicy", "verified"),
    ]
    received = [line for line in lines if " received " in line]
    assert "CN=fund" in received[0] and "CN=insurers-77001" in received[1] and "CN=fund" in received[2]
    assert all("CN=gateway" in line for line in lines if " sent " in line)
    assert shown.stdout.count("    signature ") == 6
