"""What the API admits, the SOAP messages carry: every text of a person, a document and a representative, set to
the extremes of the characters the edge lets through, is built, written and read back unchanged by the real
adapters (the compiled codec over lxml), for every operation a worker sends.

The texts go on the wire of the real clients through `responses`; the answer is an HTTP 500, an outage, since
only the request matters here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import responses
from lxml import etree

from adapters import FundAdapter, InsurerDirectory
from gateway.domain.model import (
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    Person,
    PolicyForm,
    RegistryApplicationType,
    RegistryReason,
    Relation,
    Representative,
    Sex,
)
from gateway.domain.registry import InsurerApplication, Registration
from gateway.domain.text import not_allowed
from gateway.ports import BackendUnavailable

FUND_URL = "http://fund.test/ws"
INSURER_URL = "http://insurer.test/ws"
# The ends of every range of characters the edge admits (gateway.domain.text), and a neighbour of each gap:
# U+0020 after the controls, U+007E before DEL, U+00A0 after the C1 controls, U+2027 and U+202A around the line
# and paragraph separators, U+D7FF before the surrogates, U+E000 after them, U+FFFD before the noncharacters,
# U+10000 and U+10FFFF, the first and last of the planes above.
EXTREMES = "x\u0020\u007e\u00a0\u2027\u202a\ud7ff\ue000\ufffd\U00010000\U0010ffff"
# The elements of a c:Person, c:Document and i2:Representative that take free text.
TEXT_ELEMENTS = ("LastName", "FirstName", "MiddleName", "BirthPlace", "Snils", "Inn", "Series", "Number", "Issuer")


def document() -> Document:
    return Document(DocumentType.PASSPORT_RF, EXTREMES, date(2010, 6, 1), EXTREMES, EXTREMES, None)


def person() -> Person:
    return Person(
        last_name=EXTREMES,
        first_name=EXTREMES,
        middle_name=EXTREMES,
        birth_date=date(1990, 5, 17),
        sex=Sex.FEMALE,
        citizenship="RUS",
        birth_place=EXTREMES,
        snils=EXTREMES,
        inn=EXTREMES,
        identity_document=document(),
        residence_document=document(),
    )


def representative() -> Representative:
    authority = Authority(AuthorityType.POWER_OF_ATTORNEY, EXTREMES, date(2024, 1, 10), EXTREMES)
    return Representative(EXTREMES, EXTREMES, date(1960, 1, 1), document(), authority, EXTREMES, EXTREMES)


def insurer_application(**changes: Any) -> InsurerApplication:
    values: dict[str, Any] = {"reason": RegistryReason.FIRST_CHOICE, **changes}
    return InsurerApplication(
        application_date=date(2026, 11, 24),
        person=person(),
        region_code="77",
        policy_form=PolicyForm.ELECTRONIC,
        **values,
    )


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, FUND_URL, body=b"", status=500)
        mock.add(responses.POST, INSURER_URL, body=b"", status=500)
        yield mock


@pytest.fixture
def fund() -> Iterator[FundAdapter]:
    adapter = FundAdapter(FUND_URL, timeout=5, signing=None)
    yield adapter
    adapter.close()


@pytest.fixture
def insurers() -> Iterator[InsurerDirectory]:
    directory = InsurerDirectory({"77001": INSURER_URL}, timeout=5, signing=None)
    yield directory
    directory.close()


SENDS: dict[str, Callable[[FundAdapter, InsurerDirectory], object]] = {
    "VerifyPerson": lambda fund, _: fund.verify_person("app_1", person()),
    "RegisterPolicy": lambda fund, _: fund.register_policy(
        "app_1",
        Registration(
            date(2026, 11, 24), RegistryApplicationType.INSURER_CHOICE, RegistryReason.FIRST_CHOICE, person(),
            "77001", "77", PolicyForm.ELECTRONIC,
        ),
    ),
    "IssuePolicy": lambda _, insurers: insurers.get("77001").issue_policy(  # type: ignore[union-attr]
        "app_1", insurer_application()
    ),
    "IssuePolicyOnBehalf": lambda _, insurers: insurers.get("77001").issue_policy(  # type: ignore[union-attr]
        "app_1", insurer_application(representative=representative(), relation=Relation.SPOUSE)
    ),
    "ReplacePolicy": lambda _, insurers: insurers.get("77001").replace_policy(  # type: ignore[union-attr]
        "app_1",
        insurer_application(
            enp="7754900882000015", type=RegistryApplicationType.REISSUE, reason=RegistryReason.PERSONAL_DATA_CHANGE
        ),
    ),
}  # fmt: skip


def test_the_extremes_are_characters_the_edge_admits() -> None:
    assert not_allowed(EXTREMES) == []


@pytest.mark.parametrize("operation", list(SENDS))
def test_every_text_the_edge_admits_is_carried_unchanged_by_the_soap_message(
    wire: responses.RequestsMock, fund: FundAdapter, insurers: InsurerDirectory, operation: str
) -> None:
    with pytest.raises(BackendUnavailable):
        SENDS[operation](fund, insurers)

    (call,) = wire.calls
    sent = etree.fromstring(call.request.body)  # as the other side reads it
    (payload,) = sent.iterfind("{*}Body/*")
    assert etree.QName(payload).localname == f"{operation}Request"
    texts = [element for element in payload.iter() if etree.QName(element).localname in TEXT_ELEMENTS]
    # The person's 6 texts and 3 of each of their two documents; a representative's 4, 3 of their document and 2
    # of their authority (its number and issuer).
    assert len(texts) == 6 + 3 + 3 + (4 + 3 + 2 if operation == "IssuePolicyOnBehalf" else 0)
    assert {element.text for element in texts} == {EXTREMES}
