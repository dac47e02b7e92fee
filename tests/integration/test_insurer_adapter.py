"""InsurerAdapter and InsurerDirectory against the mock insurers over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

import adapters.soap
from adapters import FundAdapter, InsurerDirectory
from adapters.insurer import InsurerAdapter
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
    Source,
)
from gateway.domain.registry import InsurerApplication
from gateway.ports import BackendRefusal, BackendUnavailable
from tests.support.applicants import first_choice, message_id, new_person
from tests.support.services import RunningMocks, inject
from tests.support.signing import insurer_signing

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

CODES = ("77001", "77002", "50001")


def addresses(mocks: RunningMocks) -> dict[str, str]:
    return {code: mocks.insurer_url(code) for code in CODES}


@pytest.fixture(scope="module")
def insurers(mocks_server: RunningMocks) -> Iterator[InsurerDirectory]:
    directory = InsurerDirectory(addresses(mocks_server), timeout=5, signing=insurer_signing(addresses(mocks_server)))
    yield directory
    directory.close()


def insurer(directory: InsurerDirectory, code: str) -> InsurerAdapter:
    found = directory.get(code)
    assert found is not None
    return found


def issue(person: Person, **changes: Any) -> InsurerApplication:
    """A first choice of an electronic policy in region 77, with `changes`."""
    application = InsurerApplication(
        application_date=date.today(),
        reason=RegistryReason.FIRST_CHOICE,
        person=person,
        region_code="77",
        policy_form=PolicyForm.ELECTRONIC,
    )
    return replace(application, **changes)


# --- the directory ------------------------------------------------------------------------------------------


def test_the_directory_knows_the_configured_insurers_by_code(insurers: InsurerDirectory) -> None:
    assert insurers.codes() == frozenset(CODES)
    assert insurers.get("77001") is not None
    assert insurers.get("99999") is None


def test_the_directory_parses_the_insurer_wsdl_once_for_all_insurers(
    mocks_server: RunningMocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real_client = adapters.soap.Client

    def counting_client(wsdl: str, **kwargs: Any) -> Any:
        built.append(wsdl)
        return real_client(wsdl, **kwargs)

    monkeypatch.setattr(adapters.soap, "Client", counting_client)

    directory = InsurerDirectory(addresses(mocks_server), timeout=5, signing=insurer_signing(addresses(mocks_server)))

    assert built == [str(adapters.soap.INSURER.wsdl)]
    directory.close()


# --- operations ---------------------------------------------------------------------------------------------


def test_an_electronic_policy_is_issued_to_a_new_person(insurers: InsurerDirectory) -> None:
    result = insurer(insurers, "77001").issue_policy(message_id("issue"), issue(new_person()))

    assert result.state == "executed"
    assert result.policy_form == "electronic"
    assert result.valid_from == date.today()
    assert result.valid_to is None
    assert result.temporary_certificate is None
    assert result.insurer_application_id.startswith("77001-")


def test_a_paper_policy_comes_with_a_temporary_certificate(insurers: InsurerDirectory) -> None:
    result = insurer(insurers, "77002").issue_policy(
        message_id("issue"), issue(new_person(), policy_form=PolicyForm.PAPER)
    )

    assert result.temporary_certificate is not None
    assert len(result.temporary_certificate.number) == 9
    assert result.temporary_certificate.valid_to > date.today() + timedelta(days=30)


def test_a_policy_is_replaced_after_its_registration_with_the_fund(
    insurers: InsurerDirectory, fund: FundAdapter
) -> None:
    person = new_person()
    registered = fund.register_policy(message_id("register"), first_choice(person, insurer_code="77001"))
    application = issue(
        person,
        policy_form=PolicyForm.PLASTIC,
        enp=registered.enp,
        type=RegistryApplicationType.REISSUE,
        reason=RegistryReason.PERSONAL_DATA_CHANGE,
    )

    result = insurer(insurers, "77001").replace_policy(message_id("replace"), application)

    assert result.state == "executed"
    assert result.policy_form == "plastic"
    assert result.temporary_certificate is not None


def test_the_state_of_an_issued_application_is_read_by_its_message_id(insurers: InsurerDirectory) -> None:
    smo = insurer(insurers, "77001")
    mid = message_id("issue")
    issued = smo.issue_policy(mid, issue(new_person()))

    assert smo.application_state(message_id("state"), mid) == issued


def test_the_state_of_an_application_the_insurer_never_had_is_none(insurers: InsurerDirectory) -> None:
    assert insurer(insurers, "77001").application_state(message_id("state"), message_id("never-sent")) is None


# --- refusals -----------------------------------------------------------------------------------------------


def test_a_policy_form_the_insurer_does_not_issue_is_refused_on_policy_form(insurers: InsurerDirectory) -> None:
    with pytest.raises(BackendRefusal) as refused:
        insurer(insurers, "50001").issue_policy(
            message_id("issue"), issue(new_person(), region_code="50", policy_form=PolicyForm.PLASTIC)
        )

    assert refused.value.source is Source.INSURER
    assert refused.value.code == "POLICY_FORM_NOT_ISSUED"
    assert refused.value.field == "policy_form"


def test_a_region_the_insurer_does_not_serve_is_refused_on_region_code(insurers: InsurerDirectory) -> None:
    with pytest.raises(BackendRefusal) as refused:
        insurer(insurers, "77001").issue_policy(message_id("issue"), issue(new_person(), region_code="50"))

    assert refused.value.code == "REGION_NOT_SERVED"
    assert refused.value.field == "region_code"


def test_replacing_a_policy_another_insurer_holds_is_refused_on_enp(
    insurers: InsurerDirectory, fund: FundAdapter
) -> None:
    person = new_person()
    registered = fund.register_policy(message_id("register"), first_choice(person, insurer_code="77001"))
    application = issue(person, enp=registered.enp, type=RegistryApplicationType.DUPLICATE, reason=RegistryReason.LOSS)

    with pytest.raises(BackendRefusal) as refused:
        insurer(insurers, "77002").replace_policy(message_id("replace"), application)

    assert refused.value.code == "POLICY_NOT_HELD"
    assert refused.value.field == "enp"


def test_a_replacement_without_enp_or_type_is_a_gateway_bug(insurers: InsurerDirectory) -> None:
    with pytest.raises(ValueError, match="ЕНП"):
        insurer(insurers, "77001").replace_policy(message_id("replace"), issue(new_person()))


# --- faults -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("technical_fault", "technical fault SERVICE_UNAVAILABLE"),
        ("http_500", "fault without a contract detail"),
        ("malformed_xml", "unreadable answer"),
        ("drop", "connection failed"),
    ],
)
def test_an_insurer_failure_is_an_outage_never_a_refusal(faulty: RunningMocks, fault: str, reason: str) -> None:
    inject(faulty, target="insurers/77001", operation="IssuePolicy", fault=fault, count=1)
    directory = InsurerDirectory(addresses(faulty), timeout=5, signing=insurer_signing(addresses(faulty)))
    application = issue(new_person())

    with pytest.raises(BackendUnavailable) as failed:
        insurer(directory, "77001").issue_policy(message_id("issue"), application)

    assert failed.value.source is Source.INSURER
    assert failed.value.operation == "IssuePolicy"
    assert reason in failed.value.reason
    directory.close()


def test_an_insurer_answering_too_late_is_an_outage_and_the_retry_finds_the_policy(faulty: RunningMocks) -> None:
    inject(faulty, target="insurers/77002", operation="IssuePolicy", fault="timeout", count=1, delay_ms=1000)
    directory = InsurerDirectory(addresses(faulty), timeout=0.2, signing=insurer_signing(addresses(faulty)))
    smo = insurer(directory, "77002")
    mid = message_id("issue")

    with pytest.raises(BackendUnavailable) as failed:
        smo.issue_policy(mid, issue(new_person()))

    assert failed.value.reason == "timeout"
    found = smo.application_state(message_id("state"), mid)
    assert found is not None
    assert found.state == "executed"
    directory.close()


def test_a_fault_at_one_insurer_leaves_the_others_answering(faulty: RunningMocks) -> None:
    inject(faulty, target="insurers/77001", operation="*", fault="http_500", count=None)
    directory = InsurerDirectory(addresses(faulty), timeout=5, signing=insurer_signing(addresses(faulty)))

    with pytest.raises(BackendUnavailable):
        insurer(directory, "77001").issue_policy(message_id("issue"), issue(new_person()))
    assert insurer(directory, "77002").issue_policy(message_id("issue"), issue(new_person())).state == "executed"
    directory.close()


def test_an_application_by_a_representative_goes_as_issue_policy_on_behalf(mocks_server: RunningMocks) -> None:
    directory = InsurerDirectory(
        {"77001": mocks_server.insurer_url("77001")},
        timeout=10,
        signing=insurer_signing({"77001": mocks_server.insurer_url("77001")}),
    )
    insurer = directory.get("77001")
    assert insurer is not None
    parent = Representative(
        last_name="Иванова",
        first_name="Анна",
        birth_date=date(1990, 5, 17),
        identity_document=Document(DocumentType.PASSPORT_RF, "123456", date(2010, 6, 1), "4510"),
        authority=Authority(AuthorityType.PARENT),
    )
    child = new_person(birth_date=date(2025, 1, 5))
    application = InsurerApplication(
        application_date=date.today(),
        reason=RegistryReason.FIRST_CHOICE,
        person=child,
        region_code="77",
        policy_form=PolicyForm.ELECTRONIC,
        representative=parent,
        relation=Relation.CHILD,
    )
    assert insurer.issue_policy("qa-behalf-1", application).state == "executed"
    spouse = replace(application, relation=Relation.SPOUSE)
    with pytest.raises(BackendRefusal) as refused:
        insurer.issue_policy("qa-behalf-2", spouse)
    assert (refused.value.code, refused.value.field) == (
        "REPRESENTATIVE_AUTHORITY_INVALID",
        "representative.authority.type",
    )
