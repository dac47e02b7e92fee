"""Workers over the mocks: applicants they process and the mocks' call counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import requests

from gateway.domain.model import (
    Document,
    DocumentType,
    Person,
    Sex,
)
from tests.support.people import new_snils, person
from tests.support.services import RunningMocks


def stats(mocks: RunningMocks) -> dict[str, Any]:
    answer: dict[str, Any] = requests.get(f"{mocks.base_url}/mock/stats", timeout=5).json()
    return answer


def calls(snapshot: dict[str, Any], target: str, operation: str) -> int:
    return int(snapshot["calls"].get(target, {}).get(operation, 0))


def applicant() -> Person:
    made = person()
    document = made["IdentityDocument"]
    return Person(
        last_name=made["LastName"],
        first_name=made["FirstName"],
        middle_name=made["MiddleName"],
        birth_date=made["BirthDate"],
        sex=Sex(made["Sex"]),
        citizenship="RUS",
        snils=new_snils(),
        identity_document=Document(
            DocumentType.PASSPORT_RF, document["Number"], document["IssueDate"], document["Series"]
        ),
    )


def adult() -> Person:
    """A random applicant of 30-something whose passport stays valid (random ones may be due for a new one)."""
    made = applicant()
    born = date(1990, 1, 1) + timedelta(days=made.birth_date.toordinal() % 3000)
    document = replace(made.identity_document, issue_date=born + timedelta(days=365 * 21))
    return replace(made, birth_date=born, identity_document=document)
