"""schemathesis fuzzes every operation of contracts/openapi.yaml on the running stack with a real token.

No answer may be a 5xx, and every answer must match the contract: status code, content type, headers and body
schema. The run is bounded (a few examples per operation, a fixed seed so that CI is repeatable) and its counts
are printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.stack import running_stack

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

SCHEMA = Path(__file__).parents[2] / "contracts" / "openapi.yaml"
ST = Path(sys.executable).with_name("st")
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance"
)
SCOPES = "epolicy.apply epolicy.read epolicy.replace epolicy.eligibility"


def test_every_operation_answers_within_its_contract_and_never_with_a_5xx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rate limits off: a fuzzer is a burst by design, and would mostly meet the (documented) 429 instead of the views.
    with running_stack(tmp_path, EPOLICY_RATELIMIT_ENABLED="false") as stack:
        body = {"sub": "schemathesis", "snils": "11223344595", "scope": SCOPES, "expires_in": 600}
        token = requests.post(f"{stack.mocks}/oauth/test/token", json=body, timeout=10).json()["access_token"]
        command = [str(ST), "run", str(SCHEMA), "--url", stack.gateway, "-H", f"Authorization: Bearer {token}"]
        command += ["--max-examples", "5", "--seed", "20261124", "--phases", "examples,fuzzing", "-c", CHECKS]
        command += ["--no-color"]
        # In the temporary folder: schemathesis keeps a .schemathesis/ cache in its working directory.
        run = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path)
    counts = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", run.stdout)
    with capsys.disabled():  # the figures belong in the CI log even when the test passes
        print(f"\nschemathesis: {counts.group(0) if counts else 'no counts'} (max 5 examples per operation)")
    if run.returncode != 0:
        pytest.fail(f"schemathesis found contract violations:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
    assert counts is not None, run.stdout
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated >= 21 and passed == generated, "every operation was tried, and every case passed"
