"""Write the response samples of `contracts/samples/` by sending the request samples to a fresh mock.

`python -m mocks.samples` re-indents every request sample and rewrites every response sample; run it after
changing a request sample or the mocks, and review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask.testing import FlaskClient
from lxml import etree

import contracts
from mocks.app import create_app

SAMPLES = contracts.path("samples")

# Order matters: the registry is stateful, and each sample should show the interesting answer.
FUND_SEQUENCE = [
    "VerifyPerson",
    "RegisterPolicy",
    "FindPerson",
    "GetInsuranceStatus",
    "GetPolicyHistory",
    "ListInsurers",
    "ListClinics",
    "AttachToClinic",
    "GetAttachment",
    "GetPolicyCard",
    "GetVisits",
    "BusinessFault",
    "SchemaViolation",
]
INSURER_SEQUENCE = [
    "IssuePolicy",
    "GetApplicationState",
    "ReplacePolicy",
    "IssuePolicyOnBehalf",
    "BusinessFault",
    "SchemaViolation",
]
TECHNICAL_FAULT_OF = {"fund": "GetInsuranceStatus", "insurer": "GetApplicationState"}


def pretty(data: bytes) -> bytes:
    """Indent an envelope the same way for every sample."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser=parser)
    return bytes(etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="utf-8"))


def post(client: FlaskClient, url: str, body: bytes) -> bytes:
    """Send one envelope and return the answer."""
    answer = client.post(url, data=body, content_type="text/xml; charset=utf-8")
    return answer.get_data()


def write_service(client: FlaskClient, kind: str, url: str, sequence: list[str]) -> list[Path]:
    """Answer every request sample of one service, in order; inject a technical fault for its sample."""
    folder = SAMPLES / kind
    written = []
    for name in sequence:
        request_path = folder / f"{name}.request.xml"
        body = pretty(request_path.read_bytes())
        request_path.write_bytes(body)
        response_path = folder / f"{name}.response.xml"
        response_path.write_bytes(pretty(post(client, url, body)))
        written += [request_path, response_path]
    target = "fund" if kind == "fund" else url.removeprefix("/")
    client.post("/mock/faults", json={"target": target, "operation": "*", "fault": "technical_fault", "count": 1})
    body = (folder / f"{TECHNICAL_FAULT_OF[kind]}.request.xml").read_bytes()
    technical = folder / "TechnicalFault.response.xml"
    technical.write_bytes(pretty(post(client, url, body)))
    written.append(technical)
    return written


def main() -> int:
    """Regenerate the samples and list the files written."""
    client = create_app({"TESTING": True}).test_client()
    written = write_service(client, "fund", "/fund", FUND_SEQUENCE)
    written += write_service(client, "insurer", "/insurers/77001", INSURER_SEQUENCE)
    for path in written:
        print(path.relative_to(contracts.CONTRACTS_DIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
