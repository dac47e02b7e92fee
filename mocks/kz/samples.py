"""Write the answers of `contracts/samples/kz/` by sending its request samples to a fresh mock.

`python -m mocks.kz.samples` re-indents every request sample and rewrites every response sample, as
`python -m mocks.samples` does for the fund and the insurers; review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask.testing import FlaskClient

import contracts
from mocks.app import create_app
from mocks.samples import post, pretty

FOLDER = contracts.path("samples", "kz")
URL = "/kz/fund"
SEQUENCE = ["GetInsuranceStatus", "BusinessFault", "SchemaViolation"]


def write(client: FlaskClient) -> list[Path]:
    """Answer every request sample; inject a technical fault for the technical-fault sample."""
    written = []
    for name in SEQUENCE:
        request_path = FOLDER / f"{name}.request.xml"
        body = pretty(request_path.read_bytes())
        request_path.write_bytes(body)
        response_path = FOLDER / f"{name}.response.xml"
        response_path.write_bytes(pretty(post(client, URL, body)))
        written += [request_path, response_path]
    client.post("/mock/faults", json={"target": "kz/fund", "operation": "*", "fault": "technical_fault", "count": 1})
    technical = FOLDER / "TechnicalFault.response.xml"
    technical.write_bytes(pretty(post(client, URL, (FOLDER / "GetInsuranceStatus.request.xml").read_bytes())))
    return [*written, technical]


def main() -> int:
    """Regenerate the samples and list the files written."""
    for path in write(create_app({"TESTING": True}).test_client()):
        print(path.relative_to(contracts.CONTRACTS_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
