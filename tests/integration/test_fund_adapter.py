"""FundAdapter against the mock fund over a real socket: every operation, refusal and fault as the port shows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapters import FundAdapter
from adapters.mapping import field_path
from gateway.domain.eligibility import insured_category
from gateway.domain.model import Document, DocumentType, PolicyStatus, RegistryReason, Sex, Source
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound
from tests.support.applicants import first_choice, message_id, new_person
from tests.support.services import RunningMocks, inject
from tests.support.signing import signing_for

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

# Seed persons of mocks/data/registry.yaml.
MOROZOV_ENP = "7748410819000012"
UNKNOWN_ENP = "7754900882999992"  # a valid check digit, no such person


# --- operations ---------------------------------------------------------------------------------------------


def test_a_person_unknown_to_the_registry_is_verified_as_new(fund: FundAdapter) -> None:
    verification = fund.verify_person(message_id("verify"), new_person())

    assert verification.known is False
    assert verification.enp is None
    assert verification.policy is None


def test_registering_a_new_person_assigns_an_enp_and_an_active_policy(fund: FundAdapter) -> None:
    person = new_person()

    result = fund.register_policy(message_id("register"), first_choice(person))

    assert result.enp_assigned is True
    assert len(result.enp) == 16
    assert result.registration_id
    assert result.policy.enp == result.enp
    assert result.policy.status is PolicyStatus.ACTIVE
    assert (result.policy.insurer_code, result.policy.region_code) == ("77001", "77")
    assert result.policy.holder.last_name == person.last_name
    assert result.policy.holder.sex is Sex.FEMALE


def test_a_registered_person_is_verified_as_known_with_their_policy(fund: FundAdapter) -> None:
    person = new_person()
    registered = fund.register_policy(message_id("register"), first_choice(person))

    verification = fund.verify_person(message_id("verify"), person)

    assert verification.known is True
    assert verification.enp == registered.enp
    assert verification.policy is not None
    assert verification.policy.insurer_code == "77001"


def test_registering_again_with_the_same_message_id_answers_the_first_result(fund: FundAdapter) -> None:
    mid = message_id("register")
    registration = first_choice(new_person())

    first = fund.register_policy(mid, registration)

    assert fund.register_policy(mid, registration) == first


def test_a_person_is_found_by_enp_with_documents_and_policy(fund: FundAdapter) -> None:
    record = fund.find_person(message_id("find"), MOROZOV_ENP)

    assert record is not None
    person = record.person
    assert (person.last_name, person.first_name, person.middle_name) == ("Морозов", "Дмитрий", "Андреевич")
    assert person.birth_date == date(1985, 11, 30)
    assert record.enp == MOROZOV_ENP
    assert person.snils == "14830157653"
    assert person.identity_document.type is DocumentType.PASSPORT_RF
    assert person.identity_document.number == "731942"
    assert record.policy is not None
    assert record.policy.insurer_code == "77001"


def test_finding_an_unknown_enp_gives_none(fund: FundAdapter) -> None:
    assert fund.find_person(message_id("find"), UNKNOWN_ENP) is None


def test_the_insurance_status_is_read_by_enp(fund: FundAdapter) -> None:
    policy = fund.insurance_status(message_id("status"), MOROZOV_ENP)

    assert policy.enp == MOROZOV_ENP
    assert policy.status is PolicyStatus.ACTIVE
    assert policy.valid_from == date(2023, 1, 10)
    assert policy.valid_to is None
    assert policy.holder.birth_date == date(1985, 11, 30)


def test_the_insurance_status_of_an_unknown_enp_is_not_found(fund: FundAdapter) -> None:
    with pytest.raises(NotFound):
        fund.insurance_status(message_id("status"), UNKNOWN_ENP)


def test_the_insurers_admitted_in_a_region_are_listed(fund: FundAdapter) -> None:
    insurers = fund.list_insurers(message_id("insurers"), "77")

    assert [insurer.code for insurer in insurers] == ["77001", "77002"]
    assert insurers[0].policy_forms == ("electronic", "paper", "plastic")
    assert insurers[0].region_code == "77"
    assert insurers[0].name


# --- refusals -----------------------------------------------------------------------------------------------


def test_a_wrong_snils_check_number_is_refused_on_person_snils(fund: FundAdapter) -> None:
    person = new_person()
    assert person.snils is not None
    wrong = person.snils[:-2] + f"{(int(person.snils[-2:]) + 1) % 100:02d}"

    with pytest.raises(BackendRefusal) as refused:
        fund.verify_person(message_id("verify"), replace(person, snils=wrong))

    assert refused.value.source is Source.FUND
    assert refused.value.code == "SNILS_CHECKSUM"
    assert refused.value.field == "person.snils"
    assert refused.value.message


def test_a_malformed_passport_series_is_refused_on_the_document_series(fund: FundAdapter) -> None:
    person = new_person()
    document = replace(person.identity_document, series="28A1")

    with pytest.raises(BackendRefusal) as refused:
        fund.verify_person(message_id("verify"), replace(person, identity_document=document))

    assert refused.value.code == "DOCUMENT_SERIES_FORMAT"
    assert refused.value.field == "person.identity_document.series"


def test_an_insurer_not_admitted_in_the_region_is_refused_on_insurer_code(fund: FundAdapter) -> None:
    with pytest.raises(BackendRefusal) as refused:
        fund.register_policy(message_id("register"), first_choice(new_person(), insurer_code="50001"))

    assert refused.value.code == "INSURER_NOT_ADMITTED"
    assert refused.value.field == "insurer_code"


def test_a_second_change_of_insurer_in_a_year_is_refused_with_the_day_it_becomes_allowed(fund: FundAdapter) -> None:
    # Dated last year, so the run does not depend on today's date and the 1 November limit.
    year = date.today().year - 1
    person = new_person()
    fund.register_policy(message_id("register"), first_choice(person, on=date(year, 3, 2)))
    own_wish = {"reason": RegistryReason.OWN_WISH}
    fund.register_policy(
        message_id("register"), first_choice(person, insurer_code="77002", on=date(year, 4, 6), **own_wish)
    )

    with pytest.raises(BackendRefusal) as refused:
        fund.register_policy(message_id("register"), first_choice(person, on=date(year, 5, 4), **own_wish))

    assert refused.value.code == "INSURER_CHANGE_LIMIT"
    assert refused.value.allowed_from == date(year + 1, 1, 1)
    assert refused.value.field is None  # "Reason": the gateway's request has no such field


def test_a_request_the_fund_finds_against_its_schema_is_a_refusal_logged_without_personal_data(
    fund: FundAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    person = replace(new_person(), snils="0123")

    with caplog.at_level("ERROR", logger="epolicy.soap"), pytest.raises(BackendRefusal) as refused:
        fund.verify_person(message_id("verify"), person)

    assert refused.value.code == "SCHEMA_VIOLATION"
    assert refused.value.field == "person.snils"
    [record] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "VerifyPerson" in record.getMessage()
    assert "0123" not in record.getMessage()


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
def test_a_back_end_failure_is_an_outage_never_a_refusal(faulty: RunningMocks, fault: str, reason: str) -> None:
    inject(faulty, target="fund", operation="ListInsurers", fault=fault, count=1)
    fund = FundAdapter(faulty.fund_url, timeout=5, signing=signing_for(faulty.fund_url))

    with pytest.raises(BackendUnavailable) as failed:
        fund.list_insurers(message_id("insurers"), "77")

    assert failed.value.source is Source.FUND
    assert failed.value.operation == "ListInsurers"
    assert reason in failed.value.reason
    assert fund.list_insurers(message_id("insurers"), "77"), "the next call goes through"
    fund.close()


def test_a_technical_fault_says_when_to_retry(faulty: RunningMocks) -> None:
    inject(faulty, target="fund", operation="GetInsuranceStatus", fault="technical_fault", count=1)
    fund = FundAdapter(faulty.fund_url, timeout=5, signing=signing_for(faulty.fund_url))

    with pytest.raises(BackendUnavailable) as failed:
        fund.insurance_status(message_id("status"), MOROZOV_ENP)

    assert failed.value.retry_after == 5.0
    fund.close()


def test_an_answer_later_than_the_timeout_is_an_outage(faulty: RunningMocks) -> None:
    inject(faulty, target="fund", operation="RegisterPolicy", fault="timeout", count=1, delay_ms=1000)
    fund = FundAdapter(faulty.fund_url, timeout=0.2, signing=signing_for(faulty.fund_url))
    mid, registration = message_id("register"), first_choice(new_person())

    with pytest.raises(BackendUnavailable) as failed:
        fund.register_policy(mid, registration)

    assert failed.value.reason == "timeout"
    assert fund.register_policy(mid, registration).enp_assigned, "the retry answers the registration made"
    fund.close()


def test_an_unreachable_fund_is_an_outage() -> None:
    fund = FundAdapter("http://127.0.0.1:9/fund", timeout=1, signing=None)

    with pytest.raises(BackendUnavailable) as failed:
        fund.list_insurers(message_id("insurers"), "77")

    assert failed.value.reason.startswith("connection failed")
    fund.close()


# --- mapping ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soap_path", "json_path"),
    [
        ("Person/Snils", "person.snils"),
        ("Person/IdentityDocument/Series", "person.identity_document.series"),
        ("Person/ResidenceDocument/ExpiryDate", "person.residence_document.expiry_date"),
        ("Person/LastName", "person.last_name"),
        ("Person", "person"),
        ("Person/IdentityDocument", "person.identity_document"),
        ("InsurerCode", "insurer_code"),
        ("RegionCode", "region_code"),
        ("PolicyForm", "policy_form"),
        ("Enp", "enp"),
        ("/c:Person/c:BirthDate", "person.birth_date"),
        ("Reason", None),
        ("ApplicationDate", None),
        ("Person/Category", None),
        ("Person/Snils/Extra", None),
        ("", None),
        (None, None),
    ],
)
def test_a_fault_field_maps_to_the_json_path_of_the_gateway_request(soap_path: str | None, json_path: str) -> None:
    assert field_path(soap_path) == json_path


@pytest.mark.parametrize(
    ("citizenship", "document_type", "category"),
    [
        ("RUS", None, "citizen"),
        ("UZB", DocumentType.RESIDENCE_PERMIT, "foreigner_permanent"),
        ("stateless", DocumentType.RESIDENCE_PERMIT, "stateless_permanent"),
        ("UZB", DocumentType.TEMPORARY_RESIDENCE_PERMIT, "foreigner_temporary"),
        ("stateless", DocumentType.TEMPORARY_RESIDENCE_PERMIT, "stateless_temporary"),
        ("AFG", DocumentType.REFUGEE_CERTIFICATE, "refugee"),
        ("UZB", None, None),
    ],
)
def test_the_insured_category_follows_from_citizenship_and_documents(
    citizenship: str, document_type: DocumentType | None, category: str | None
) -> None:
    residence = None
    if document_type is not None:
        residence = Document(document_type, "0123456", date(2024, 3, 15), expiry_date=date(2029, 3, 14))

    person = new_person(citizenship=citizenship, residence_document=residence)

    assert insured_category(person) == category


def test_a_foreigner_with_a_residence_permit_is_registered_until_the_end_of_the_year(fund: FundAdapter) -> None:
    passport = Document(DocumentType.FOREIGN_PASSPORT, "AB7781234", date(2020, 1, 10), series="FA")
    permit = Document(DocumentType.RESIDENCE_PERMIT, "0456789", date(2024, 3, 15), series="82")
    person = new_person(citizenship="UZB", identity_document=passport, residence_document=permit)

    result = fund.register_policy(message_id("register"), first_choice(person))

    assert result.policy.valid_to == date(date.today().year, 12, 31)


def test_find_person_by_snils_reads_the_record_or_none(mocks_server: RunningMocks) -> None:
    from tests.support.people import new_snils

    fund = FundAdapter(mocks_server.fund_url, timeout=10, signing=signing_for(mocks_server.fund_url))
    found = fund.find_person_by_snils("qa-by-snils-1", "14830157653")
    assert found is not None
    assert (found.person.last_name, found.enp) == ("Морозов", "7748410819000012")
    assert fund.find_person_by_snils("qa-by-snils-2", new_snils()) is None
