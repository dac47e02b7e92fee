"""Behaviour of the mock fund: every registry rule, through SOAP envelopes, as a client sees it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from stdnum import luhn

import contracts
from mocks.fund import Registry, create_fund_service
from mocks.fund.checks import enp_facet, enp_is_valid, make_enp
from mocks.soap import SoapService
from tests.support.envelopes import Answer, send

SEED = Path(__file__).resolve().parents[2] / "mocks" / "data" / "registry.yaml"
TODAY = date(2026, 6, 15)
FUND = "urn:epolicy:fund:v1"
COMMON = "urn:epolicy:common:v1"
SCHEMA = etree.XMLSchema(etree.parse(str(contracts.path("fund", "fund.xsd"))))
CATALOGUE = {
    reason["code"]
    for reason in yaml.safe_load(contracts.path("rejections.yaml").read_text(encoding="utf-8"))["reasons"]
}

PERSON_FIELDS = (
    "LastName", "FirstName", "MiddleName", "BirthDate", "Sex", "BirthPlace", "Citizenship", "Category",
    "Snils", "Inn", "IdentityDocument", "ResidenceDocument",
)  # fmt: skip
DOCUMENT_FIELDS = ("Type", "Series", "Number", "IssueDate", "Issuer", "ExpiryDate")


def passport(series: str = "4512", number: str = "345678", issued: str = "2010-06-01") -> dict[str, Any]:
    """A passport of the RF."""
    return {"Type": "passport_rf", "Series": series, "Number": number, "IssueDate": issued}


# The seeded persons, as an applicant states them (mirrors mocks/data/registry.yaml).
MOROZOV_ENP = "7748410819000012"
MOROZOV = {
    "LastName": "Морозов", "FirstName": "Дмитрий", "MiddleName": "Андреевич", "BirthDate": "1985-11-30",
    "Sex": "male", "Citizenship": "RUS", "Snils": "14830157653",
    "IdentityDocument": passport("4505", "731942", "2005-12-14"),
}  # fmt: skip
LEBEDEVA_ENP = "7752020876000012"
LEBEDEVA = {
    "LastName": "Лебедева", "FirstName": "Анна", "MiddleName": "Сергеевна", "BirthDate": "1979-07-23",
    "Sex": "female", "Citizenship": "RUS", "Snils": "15940268784",
    "IdentityDocument": passport("4524", "654321", "2024-08-15"),
}  # fmt: skip
KARIMOV_ENP = "7757110838000013"
KARIMOV = {
    "LastName": "Каримов", "FirstName": "Алишер", "MiddleName": "Рустамович", "BirthDate": "1988-02-11",
    "Sex": "male", "Citizenship": "UZB", "Category": "foreigner_permanent", "Snils": "16051379850",
    "IdentityDocument": {"Type": "foreign_passport", "Series": "FA", "Number": "1234567",
                         "IssueDate": "2019-04-02", "ExpiryDate": "2029-04-01"},
    "ResidenceDocument": {"Type": "residence_permit", "Series": "82", "Number": "0123456",
                          "IssueDate": "2024-03-15", "ExpiryDate": "2029-03-14"},
}  # fmt: skip
SOKOLOVA_ENP = "7796789779000018"
SIDOROV_ENP = "7770150846000012"
SIDOROV = {
    "LastName": "Сидоров", "FirstName": "Пётр", "MiddleName": "Ильич", "BirthDate": "1948-09-03",
    "Sex": "male", "Citizenship": "RUS", "Snils": "18273591092",
    "IdentityDocument": passport("4503", "112233", "2003-10-01"),
}  # fmt: skip
# Not in the registry: the woman of DOMAIN.md's ЕНП example.
NEWCOMER = {
    "LastName": "Новикова", "FirstName": "Елена", "MiddleName": "Викторовна", "BirthDate": "1990-05-17",
    "Sex": "female", "Citizenship": "RUS", "Snils": "11223344595", "IdentityDocument": passport(),
}  # fmt: skip


def person(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a stated person with some elements changed (None leaves one out)."""
    return {**base, **changes}


# --- envelopes -------------------------------------------------------------------------------------------------

_message_ids = itertools.count(1)


def el(namespace: str, tag: str, *children: etree._Element | str | date | None) -> etree._Element:
    """An element with element children or a text value; None children are left out."""
    elem = etree.Element(f"{{{namespace}}}{tag}")
    for child in children:
        if isinstance(child, etree._Element):
            elem.append(child)
        elif child is not None:
            elem.text = child.isoformat() if isinstance(child, date) else child
    return elem


def f(tag: str, *children: etree._Element | str | date | None) -> etree._Element:
    """An element of fund.xsd."""
    return el(FUND, tag, *children)


def c(tag: str, *children: etree._Element | str | date | None) -> etree._Element:
    """An element local to a type of common.xsd."""
    return el(COMMON, tag, *children)


def document_xml(tag: str, data: dict[str, Any], namespace: str = COMMON) -> etree._Element:
    """A document element (type c:Document): named in its parent's namespace, its children in the common one."""
    return el(namespace, tag, *(c(name, data[name]) for name in DOCUMENT_FIELDS if data.get(name) is not None))


def person_xml(data: dict[str, Any]) -> etree._Element:
    """The Person element of a request: fund namespace, its children of type c:Person in the common one."""
    children: list[etree._Element] = []
    for name in PERSON_FIELDS:
        value = data.get(name)
        if isinstance(value, dict):
            children.append(document_xml(name, value))
        elif value is not None:
            children.append(c(name, value))
    return f("Person", *children)


def call(fund: SoapService, operation: str, *children: etree._Element | None, message_id: str = "") -> Answer:
    """Send one request envelope and read the answer; a technical fault or an invalid response fails the test."""
    request = f(f"{operation}Request", f("MessageId", message_id or f"msg-{next(_message_ids)}"), *children)
    return send(fund, request, SCHEMA, CATALOGUE)


def verify(fund: SoapService, who: dict[str, Any], enp: str | None = None) -> Answer:
    """VerifyPerson."""
    return call(fund, "VerifyPerson", person_xml(who), f("Enp", enp) if enp else None)


def register(
    fund: SoapService,
    who: dict[str, Any],
    *,
    kind: str = "insurer_choice",
    reason: str = "first_choice",
    insurer: str = "77001",
    region: str = "77",
    form: str = "electronic",
    enp: str | None = None,
    on: date = TODAY,
    message_id: str = "",
) -> Answer:
    """RegisterPolicy."""
    return call(
        fund,
        "RegisterPolicy",
        f("ApplicationDate", on),
        f("ApplicationType", kind),
        f("Reason", reason),
        person_xml(who),
        f("Enp", enp) if enp else None,
        f("InsurerCode", insurer),
        f("RegionCode", region),
        f("PolicyForm", form),
        message_id=message_id,
    )


def status(fund: SoapService, enp: str, on: date | None = None) -> Answer:
    """GetInsuranceStatus."""
    return call(fund, "GetInsuranceStatus", f("Enp", enp), f("OnDate", on) if on else None)


def history(fund: SoapService, enp: str) -> Answer:
    """GetPolicyHistory."""
    return call(fund, "GetPolicyHistory", f("Enp", enp))


# --- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture
def make_fund() -> Callable[[date], tuple[Registry, SoapService]]:
    """A fresh registry from the seed and its SOAP service, on a chosen day."""

    def make(today: date = TODAY) -> tuple[Registry, SoapService]:
        registry = Registry.from_seed(SEED, today=lambda: today)
        return registry, create_fund_service(registry)

    return make


@pytest.fixture
def registry(make_fund: Callable[[date], tuple[Registry, SoapService]]) -> Registry:
    return make_fund(TODAY)[0]


@pytest.fixture
def fund(registry: Registry) -> SoapService:
    return create_fund_service(registry)


# --- checks.py -------------------------------------------------------------------------------------------------


def test_enp_of_domain_example_has_the_facet_and_a_luhn_check_digit() -> None:
    assert enp_facet(date(1990, 5, 17), "female") == "54900882"
    assert make_enp("77", date(1990, 5, 17), "female", 1) == "7754900882000015"
    assert enp_is_valid("7754900882000015")
    assert not enp_is_valid("7754900882000016")


def test_enp_check_digit_is_hl7_mod10() -> None:
    assert [luhn.calc_check_digit(n) for n in ("12345", "401", "9999", "99999999")] == ["5", "0", "4", "8"]


def test_enp_facet_adds_twenty_to_the_month_before_1951_and_fifty_to_a_mans_day() -> None:
    # 1948-09-03, man: month 29, year 8491, day 53 -> 29849153 -> each digit 9 - x.
    assert enp_facet(date(1948, 9, 3), "male") == "70150846"
    assert enp_facet(date(2012, 3, 20), "female") == "96789779"


# --- format-logical control ------------------------------------------------------------------------------------


def test_refuses_snils_with_wrong_check_number(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, Snils="01024236800"))
    assert answer.refusal == ("SNILS_CHECKSUM", "Person/Snils")


def test_accepts_small_snils_without_checking_it(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, Snils="00100199800"))
    assert answer.ok and answer.get("Outcome") == "new"


def test_all_zeros_snils_is_refused_by_the_fund(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, Snils="00000000000"))
    assert answer.refusal == ("SNILS_FORMAT", "Person/Snils")


def test_refuses_enp_with_wrong_check_digit(fund: SoapService) -> None:
    answer = verify(fund, MOROZOV, enp="7748410819000013")
    assert answer.refusal == ("ENP_CHECKSUM", "Enp")


def test_refuses_passport_series_that_is_not_four_digits(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, IdentityDocument=passport(series="45A2")))
    assert answer.refusal == ("DOCUMENT_SERIES_FORMAT", "Person/IdentityDocument/Series")


@pytest.mark.parametrize("series", ["45 10", "٤٥١٠"])
def test_passport_series_is_four_ascii_digits_as_the_samples_write_it(fund: SoapService, series: str) -> None:
    answer = verify(fund, person(NEWCOMER, IdentityDocument=passport(series=series)))
    assert answer.refusal == ("DOCUMENT_SERIES_FORMAT", "Person/IdentityDocument/Series")


def test_refuses_passport_number_that_is_not_six_digits(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, IdentityDocument=passport(number="34567")))
    assert answer.refusal == ("DOCUMENT_NUMBER_FORMAT", "Person/IdentityDocument/Number")


@pytest.mark.parametrize("series", ["4-МЮ", "IV-MЮ", "IVМЮ", "IV-мю", "IIII-МЮ"])
def test_refuses_birth_certificate_series_not_roman_hyphen_two_cyrillic_capitals(
    fund: SoapService, series: str
) -> None:
    document = {"Type": "birth_certificate_rf", "Series": series, "Number": "765432", "IssueDate": "2020-02-01"}
    child = person(NEWCOMER, BirthDate="2020-01-10", Snils=None, IdentityDocument=document)
    assert verify(fund, child).refusal == ("DOCUMENT_SERIES_FORMAT", "Person/IdentityDocument/Series")


def test_accepts_birth_certificate_series_like_iv_mu(fund: SoapService) -> None:
    document = {"Type": "birth_certificate_rf", "Series": "IV-МЮ", "Number": "765432", "IssueDate": "2020-02-01"}
    child = person(NEWCOMER, BirthDate="2020-01-10", Snils=None, IdentityDocument=document)
    assert verify(fund, child).get("Outcome") == "new"


def test_refuses_birth_certificate_number_that_is_not_six_digits(fund: SoapService) -> None:
    document = {"Type": "birth_certificate_rf", "Series": "IV-МЮ", "Number": "76543X", "IssueDate": "2020-02-01"}
    child = person(NEWCOMER, BirthDate="2020-01-10", Snils=None, IdentityDocument=document)
    assert verify(fund, child).refusal == ("DOCUMENT_NUMBER_FORMAT", "Person/IdentityDocument/Number")


def test_refuses_birth_date_in_the_future(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, BirthDate="2026-06-16"))
    assert answer.refusal == ("BIRTH_DATE_IN_FUTURE", "Person/BirthDate")


def test_refuses_document_issued_before_birth(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, IdentityDocument=passport(issued="1990-05-16")))
    assert answer.refusal == ("DOCUMENT_ISSUE_DATE_BEFORE_BIRTH", "Person/IdentityDocument/IssueDate")


def test_refuses_highly_qualified_specialist(fund: SoapService) -> None:
    specialist = person(KARIMOV, LastName="Юсупов", Snils=None, Category="highly_qualified_specialist")
    assert verify(fund, specialist).refusal == ("HIGHLY_QUALIFIED_SPECIALIST", "Person/Category")


def test_refuses_foreigner_without_residence_document(fund: SoapService) -> None:
    answer = verify(fund, person(KARIMOV, ResidenceDocument=None))
    assert answer.refusal == ("RESIDENCE_DOCUMENT_REQUIRED", "Person/ResidenceDocument")


def test_accepts_refugee_whose_refugee_certificate_is_their_residence_document(fund: SoapService) -> None:
    certificate = {"Type": "refugee_certificate", "Number": "000123", "IssueDate": "2025-01-20",
                   "ExpiryDate": "2028-01-19"}  # fmt: skip
    refugee = person(NEWCOMER, Citizenship="AFG", Category="refugee", IdentityDocument=certificate)
    assert verify(fund, refugee).get("Outcome") == "new"


STATELESS_PERMIT = {"Type": "residence_permit", "Series": "83", "Number": "0424242", "IssueDate": "2021-10-01",
                    "ExpiryDate": "2026-10-01"}  # fmt: skip
STATELESS = person(NEWCOMER, LastName="Безгражданская", Citizenship="stateless", Category="stateless_permanent",
                   Snils=None, IdentityDocument=STATELESS_PERMIT)  # fmt: skip


def test_stateless_persons_residence_permit_is_both_identity_and_stay_document(fund: SoapService) -> None:
    assert verify(fund, STATELESS).get("Outcome") == "new"
    # The policy ends with the permit, before the end of the calendar year.
    assert register(fund, STATELESS).get("Policy/ValidTo") == "2026-10-01"


def test_refuses_a_stateless_persons_permit_expired_before_the_application(fund: SoapService) -> None:
    expired = person(STATELESS, IdentityDocument={**STATELESS_PERMIT, "ExpiryDate": "2026-06-01"})
    answer = register(fund, expired)
    assert answer.refusal == ("RESIDENCE_DOCUMENT_EXPIRED", "Person/IdentityDocument/ExpiryDate")


def test_a_foreigners_permit_is_no_identity_document_for_the_fund(fund: SoapService) -> None:
    foreigner = person(STATELESS, Citizenship="UZB", Category="foreigner_permanent")
    assert verify(fund, foreigner).refusal == ("RESIDENCE_DOCUMENT_REQUIRED", "Person/ResidenceDocument")


def test_refuses_residence_document_expired_before_the_application(fund: SoapService) -> None:
    permit = {**KARIMOV["ResidenceDocument"], "ExpiryDate": "2026-06-01"}
    answer = register(fund, person(KARIMOV, ResidenceDocument=permit), enp=KARIMOV_ENP)
    assert answer.refusal == ("RESIDENCE_DOCUMENT_EXPIRED", "Person/ResidenceDocument/ExpiryDate")


def test_refuses_a_foreign_passport_expired_before_the_application(fund: SoapService) -> None:
    expired = {**KARIMOV["IdentityDocument"], "ExpiryDate": "2026-06-14"}
    answer = verify(fund, person(KARIMOV, IdentityDocument=expired))
    assert answer.refusal == ("DOCUMENT_EXPIRED", "Person/IdentityDocument/ExpiryDate")


def test_refuses_application_dated_after_today(fund: SoapService) -> None:
    answer = register(fund, NEWCOMER, on=date(2026, 6, 16))
    assert answer.refusal == ("APPLICATION_DATE_INVALID", "ApplicationDate")


# --- identification --------------------------------------------------------------------------------------------


def test_verifies_a_known_person_by_snils_with_their_policy(fund: SoapService) -> None:
    answer = verify(fund, MOROZOV)
    assert (answer.get("Outcome"), answer.get("Enp")) == ("known", MOROZOV_ENP)
    assert (answer.get("Policy/Status"), answer.get("Policy/InsurerCode")) == ("active", "77001")


def test_verifies_a_person_the_registry_does_not_know_as_new(fund: SoapService) -> None:
    answer = verify(fund, NEWCOMER)
    assert answer.get("Outcome") == "new" and answer.get("Enp") is None


def test_refuses_an_enp_the_registry_does_not_know(fund: SoapService) -> None:
    assert verify(fund, NEWCOMER, enp="7754900882000015").refusal == ("ENP_NOT_FOUND", "Enp")


def test_accepts_other_names_with_the_enp_of_a_known_person(fund: SoapService) -> None:
    renamed = person(MOROZOV, LastName="Морозов-Ланской", IdentityDocument=passport("4526", "100200", "2026-05-01"))
    answer = verify(fund, renamed, enp=MOROZOV_ENP)
    assert (answer.get("Outcome"), answer.get("Enp")) == ("known", MOROZOV_ENP)


def test_refuses_the_snils_of_another_person_with_an_enp(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, Snils=LEBEDEVA["Snils"]), enp=MOROZOV_ENP)
    assert answer.refusal == ("SNILS_OTHER_PERSON", "Person/Snils")


def test_refuses_the_document_of_another_person_with_an_enp(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, IdentityDocument=LEBEDEVA["IdentityDocument"]), enp=MOROZOV_ENP)
    assert answer.refusal == ("DOCUMENT_OTHER_PERSON", "Person/IdentityDocument")


def test_refuses_an_enp_stated_for_someone_the_registry_knows_as_another_person(fund: SoapService) -> None:
    assert verify(fund, LEBEDEVA, enp=MOROZOV_ENP).refusal == ("ENP_OTHER_PERSON", "Enp")


def test_refuses_snils_registered_to_someone_with_another_name_and_birth_date(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, Snils=MOROZOV["Snils"]))
    assert answer.refusal == ("SNILS_OTHER_PERSON", "Person/Snils")


def test_refuses_data_differing_from_the_record_of_the_snils_naming_the_first_element(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, FirstName="Денис", Sex="female"))
    assert answer.refusal == ("REGISTRY_DATA_MISMATCH", "Person/FirstName")
    answer = verify(fund, person(MOROZOV, BirthDate="1985-11-29"))
    assert answer.refusal == ("REGISTRY_DATA_MISMATCH", "Person/BirthDate")


def test_refuses_document_registered_to_someone_with_another_name_and_birth_date(fund: SoapService) -> None:
    answer = verify(fund, person(NEWCOMER, Snils=None, IdentityDocument=MOROZOV["IdentityDocument"]))
    assert answer.refusal == ("DOCUMENT_OTHER_PERSON", "Person/IdentityDocument")


def test_refuses_a_snils_other_than_the_one_recorded_for_the_document(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, Snils="11223344595"))
    assert answer.refusal == ("REGISTRY_DATA_MISMATCH", "Person/Snils")


def test_identifies_by_document_without_snils(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, Snils=None))
    assert (answer.get("Outcome"), answer.get("Enp")) == ("known", MOROZOV_ENP)


def test_identifies_by_name_birth_date_and_a_previous_document(fund: SoapService) -> None:
    new_passport = passport("4526", "100200", "2026-05-01")
    assert register(
        fund, person(MOROZOV, IdentityDocument=new_passport), kind="data_change", reason="data_inaccuracy",
        enp=MOROZOV_ENP,
    ).ok  # fmt: skip
    answer = verify(fund, person(MOROZOV, Snils=None))
    assert (answer.get("Outcome"), answer.get("Enp")) == ("known", MOROZOV_ENP)


def test_compares_names_case_insensitively_with_yo_read_as_ye(fund: SoapService) -> None:
    answer = verify(fund, person(MOROZOV, LastName="МОРОЗОВ", FirstName="дмитрий"))
    assert answer.get("Outcome") == "known"
    # Found despite "Петр" for "Пётр": the refusal is the death, not a data mismatch.
    assert verify(fund, person(SIDOROV, FirstName="Петр")).refusal[0] == "PERSON_DECEASED"


def test_refuses_a_deceased_person(fund: SoapService) -> None:
    assert verify(fund, SIDOROV).refusal[0] == "PERSON_DECEASED"
    assert register(fund, SIDOROV, insurer="77002").refusal[0] == "PERSON_DECEASED"


# --- RegisterPolicy: the application ---------------------------------------------------------------------------


def test_same_message_id_twice_registers_once(fund: SoapService, registry: Registry) -> None:
    first = register(fund, NEWCOMER, message_id="insurer-77001-0001")
    again = register(fund, NEWCOMER, message_id="insurer-77001-0001")
    assert first.ok and again.ok
    assert again.get("RegistrationId") == first.get("RegistrationId")
    assert again.get("Enp") == first.get("Enp") and again.get("EnpAssigned") == "true"
    assert registry.registration_count() == 1
    assert registry.registrations_for("insurer-77001-0001") == 1


def test_concurrent_repeats_of_a_message_id_register_once(fund: SoapService, registry: Registry) -> None:
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=lambda: answers.append(register(fund, NEWCOMER, message_id="race-1"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {answer.get("Enp") for answer in answers} == {"7754900882000015"}
    assert registry.registration_count() == 1


def test_refuses_a_reason_that_does_not_belong_to_the_application_type(fund: SoapService) -> None:
    answer = register(fund, NEWCOMER, reason="loss")
    assert answer.refusal == ("REPLACEMENT_REASON_NOT_APPLICABLE", "Reason")


def test_refuses_an_unknown_insurer(fund: SoapService) -> None:
    assert register(fund, NEWCOMER, insurer="77999").refusal == ("INSURER_UNKNOWN", "InsurerCode")


def test_refuses_an_insurer_not_admitted_in_the_region_on_the_application_date(fund: SoapService) -> None:
    assert register(fund, NEWCOMER, insurer="50001").refusal == ("INSURER_NOT_ADMITTED", "InsurerCode")
    assert register(fund, NEWCOMER, insurer="77003").refusal == ("INSURER_NOT_ADMITTED", "InsurerCode")


# --- insurer_choice ----------------------------------------------------------------------------------------------


def test_assigns_a_new_person_the_enp_of_domain_example(fund: SoapService) -> None:
    answer = register(fund, NEWCOMER)
    assert answer.get("Enp") == "7754900882000015" and answer.get("EnpAssigned") == "true"
    assert luhn.is_valid(answer.get("Enp") or "")
    assert (answer.get("Policy/Status"), answer.get("Policy/ValidFrom")) == ("active", "2026-06-15")
    assert answer.get("Policy/ValidTo") is None
    assert answer.get("Policy/Holder/LastName") == "Новикова"


def test_counts_enp_serials_per_fund_and_birth_facet(fund: SoapService) -> None:
    first = register(fund, NEWCOMER)
    twin = person(NEWCOMER, FirstName="Ольга", Snils="19384602198", IdentityDocument=passport(number="345679"))
    second = register(fund, twin)
    assert first.get("Enp") == "7754900882000015"
    assert second.get("Enp") == make_enp("77", date(1990, 5, 17), "female", 2) == "7754900882000023"


def test_refuses_to_choose_the_insurer_already_holding_the_policy(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, reason="own_wish", insurer="77001")
    assert answer.refusal == ("ALREADY_INSURED_SAME_INSURER", "InsurerCode")


def test_changes_insurer_by_own_wish_keeping_the_enp(fund: SoapService, registry: Registry) -> None:
    answer = register(fund, MOROZOV, reason="own_wish", insurer="77002", on=date(2026, 3, 1))
    assert (answer.get("Enp"), answer.get("EnpAssigned")) == (MOROZOV_ENP, "false")
    assert status(fund, MOROZOV_ENP).get("Policy/InsurerCode") == "77002"
    person_record = registry.person(MOROZOV_ENP)
    assert person_record is not None
    assert person_record.policies[-2].valid_to == date(2026, 2, 28)  # the old policy ends the day before


def test_refuses_insurer_change_by_wish_after_the_first_of_november(make_fund: Any) -> None:
    _, fund = make_fund(date(2026, 11, 20))
    answer = register(fund, MOROZOV, reason="own_wish", insurer="77002", on=date(2026, 11, 2))
    assert answer.refusal == ("INSURER_CHANGE_AFTER_NOVEMBER", "ApplicationDate")
    assert answer.get("AllowedFrom") == "2027-01-01"


def test_allows_insurer_change_by_wish_on_the_first_of_november(make_fund: Any) -> None:
    _, fund = make_fund(date(2026, 11, 20))
    assert register(fund, MOROZOV, reason="own_wish", insurer="77002", on=date(2026, 11, 1)).ok


def test_refuses_second_insurer_change_by_wish_in_a_calendar_year(fund: SoapService) -> None:
    assert register(fund, MOROZOV, reason="own_wish", insurer="77002", on=date(2026, 2, 1)).ok
    answer = register(fund, MOROZOV, reason="own_wish", insurer="77001", on=date(2026, 6, 1))
    assert answer.refusal == ("INSURER_CHANGE_LIMIT", "Reason")
    assert answer.get("AllowedFrom") == "2027-01-01"


def test_first_choice_while_insured_elsewhere_counts_as_a_change_by_wish(fund: SoapService) -> None:
    assert register(fund, MOROZOV, reason="first_choice", insurer="77002", on=date(2026, 2, 1)).ok
    answer = register(fund, MOROZOV, reason="first_choice", insurer="77001", on=date(2026, 6, 1))
    assert answer.refusal == ("INSURER_CHANGE_LIMIT", "Reason")


def test_changes_insurer_on_relocation_to_another_region(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, reason="relocation", insurer="50001", region="50")
    assert (answer.get("Enp"), answer.get("Policy/RegionCode")) == (MOROZOV_ENP, "50")


def test_refuses_relocation_within_the_same_region(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, reason="relocation", insurer="77002")
    assert answer.refusal == ("REPLACEMENT_REASON_NOT_APPLICABLE", "Reason")


def test_changes_insurer_whose_contract_ended(fund: SoapService) -> None:
    answer = register(fund, LEBEDEVA, reason="insurer_contract_ended", insurer="77001")
    assert (answer.get("Enp"), answer.get("Policy/InsurerCode")) == (LEBEDEVA_ENP, "77001")


def test_refuses_contract_ended_while_the_current_insurer_is_admitted(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, reason="insurer_contract_ended", insurer="77002")
    assert answer.refusal == ("REPLACEMENT_REASON_NOT_APPLICABLE", "Reason")


def test_gives_a_person_whose_policy_expired_a_new_policy_with_the_same_enp(fund: SoapService) -> None:
    answer = register(fund, KARIMOV, insurer="77001")
    assert (answer.get("Enp"), answer.get("EnpAssigned")) == (KARIMOV_ENP, "false")
    assert (answer.get("Policy/Status"), answer.get("Policy/ValidTo")) == ("active", "2026-12-31")


# --- reissue, duplicate, data_change -------------------------------------------------------------------------


def test_refuses_a_replacement_without_enp(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, kind="duplicate", reason="loss")
    assert answer.refusal == ("FIELD_REQUIRED", "Enp")


def test_refuses_a_replacement_by_an_insurer_not_holding_the_policy(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, kind="duplicate", reason="loss", insurer="77002", enp=MOROZOV_ENP)
    assert answer.refusal == ("POLICY_NOT_HELD", "InsurerCode")


def test_refuses_a_replacement_of_a_policy_not_in_force(fund: SoapService) -> None:
    answer = register(fund, KARIMOV, kind="duplicate", reason="wear", insurer="77002", enp=KARIMOV_ENP)
    assert answer.refusal[0] == "POLICY_NOT_ACTIVE"


def test_renews_the_expired_policy_of_a_foreigner(fund: SoapService) -> None:
    answer = register(fund, KARIMOV, kind="reissue", reason="expiry_renewal", insurer="77002", enp=KARIMOV_ENP)
    assert (answer.get("Enp"), answer.get("Policy/Status")) == (KARIMOV_ENP, "active")
    assert answer.get("Policy/ValidTo") == "2026-12-31"


def test_refuses_expiry_renewal_for_a_citizen(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, kind="reissue", reason="expiry_renewal", enp=MOROZOV_ENP)
    assert answer.refusal == ("REPLACEMENT_REASON_NOT_APPLICABLE", "Reason")


def test_name_change_keeps_the_enp_and_updates_the_record(fund: SoapService) -> None:
    renamed = person(MOROZOV, LastName="Морозов-Ланской", IdentityDocument=passport("4526", "100200", "2026-05-01"))
    answer = register(fund, renamed, kind="reissue", reason="personal_data_change", enp=MOROZOV_ENP)
    assert (answer.get("Enp"), answer.get("EnpAssigned")) == (MOROZOV_ENP, "false")
    assert answer.get("Policy/Holder/LastName") == "Морозов-Ланской"
    found = call(fund, "FindPerson", f("Enp", MOROZOV_ENP))
    assert (found.get("Person/LastName"), found.get("Person/IdentityDocument/Number")) == ("Морозов-Ланской", "100200")
    assert verify(fund, renamed).get("Enp") == MOROZOV_ENP


def test_data_change_keeps_the_policy(fund: SoapService) -> None:
    corrected = person(MOROZOV, MiddleName="Андреевич-Оглы")
    answer = register(fund, corrected, kind="data_change", reason="data_inaccuracy", enp=MOROZOV_ENP)
    assert (answer.get("Policy/ValidFrom"), answer.get("Policy/Holder/MiddleName")) == ("2023-01-10", "Андреевич-Оглы")


def test_duplicate_issues_a_policy_with_the_same_enp(fund: SoapService) -> None:
    answer = register(fund, MOROZOV, kind="duplicate", reason="loss", form="plastic", enp=MOROZOV_ENP)
    assert (answer.get("Enp"), answer.get("Policy/PolicyForm")) == (MOROZOV_ENP, "plastic")
    assert history(fund, MOROZOV_ENP).all("Event/Type")[-1] == "duplicate_issued"


# --- validity and restrictions ----------------------------------------------------------------------------------


def test_foreigner_policy_ends_with_the_calendar_year(fund: SoapService) -> None:
    foreigner = person(KARIMOV, LastName="Юсупов", Snils=None,
                       IdentityDocument={**KARIMOV["IdentityDocument"], "Number": "7654321"},
                       ResidenceDocument={**KARIMOV["ResidenceDocument"], "Number": "0654321"})  # fmt: skip
    assert register(fund, foreigner).get("Policy/ValidTo") == "2026-12-31"


def test_foreigner_policy_never_outlasts_the_residence_document(fund: SoapService) -> None:
    permit = {"Type": "temporary_residence_permit", "Number": "0777777", "IssueDate": "2025-09-30",
              "ExpiryDate": "2026-09-30"}  # fmt: skip
    foreigner = person(KARIMOV, LastName="Юсупов", Snils=None, Category="foreigner_temporary",
                       IdentityDocument={**KARIMOV["IdentityDocument"], "Number": "7654321"},
                       ResidenceDocument=permit)  # fmt: skip
    assert register(fund, foreigner).get("Policy/ValidTo") == "2026-09-30"


def test_child_of_fourteen_with_a_birth_certificate_has_a_restriction(fund: SoapService) -> None:
    answer = status(fund, SOKOLOVA_ENP)
    assert answer.get("Policy/Restriction/Code") == "BIRTH_CERTIFICATE_AGE" and "BIRTH_CERTIFICATE_AGE" in CATALOGUE
    assert answer.get("Policy/Restriction/Since") == "2026-03-20"
    assert status(fund, SOKOLOVA_ENP, on=date(2026, 3, 19)).get("Policy/Restriction/Code") is None


def test_a_child_born_on_29_february_must_move_to_a_passport_from_28_february_of_a_common_year(
    fund: SoapService,
) -> None:
    certificate = {"Type": "birth_certificate_rf", "Series": "II-МЮ", "Number": "229229", "IssueDate": "2012-03-05"}
    child = person(NEWCOMER, BirthDate="2012-02-29", Snils=None, IdentityDocument=certificate)
    enp = register(fund, child, on=date(2026, 1, 15)).get("Enp")
    assert enp is not None
    assert status(fund, enp, on=date(2026, 2, 27)).get("Policy/Restriction/Code") is None
    assert status(fund, enp, on=date(2026, 2, 28)).get("Policy/Restriction/Since") == "2026-02-28"


def test_policy_of_a_deceased_person_reads_as_annulled(fund: SoapService) -> None:
    assert status(fund, SIDOROV_ENP).get("Policy/Status") == "annulled"
    assert status(fund, SIDOROV_ENP, on=date(2025, 3, 9)).get("Policy/Status") == "active"


# --- GetInsuranceStatus, GetPolicyHistory, FindPerson, ListInsurers ------------------------------------------


def test_reads_the_status_on_a_date(fund: SoapService) -> None:
    assert status(fund, KARIMOV_ENP).get("Policy/Status") == "expired"
    assert status(fund, KARIMOV_ENP, on=date(2025, 6, 1)).get("Policy/Status") == "active"


def test_refuses_status_of_an_unknown_enp(fund: SoapService) -> None:
    assert status(fund, "7754900882000015").refusal == ("ENP_NOT_FOUND", "Enp")


def test_history_lists_events_in_order_with_reason_and_registration_id(fund: SoapService) -> None:
    registered = register(fund, MOROZOV, kind="duplicate", reason="wear", enp=MOROZOV_ENP)
    answer = history(fund, MOROZOV_ENP)
    assert answer.all("Event/Type") == ["issued", "insurer_changed", "duplicate_issued"]
    assert answer.all("Event/Date") == ["2012-03-01", "2023-01-10", "2026-06-15"]
    assert answer.all("Event/Reason") == ["first_choice", "own_wish", "wear"]
    assert answer.all("Event/RegistrationId")[-1] == registered.get("RegistrationId")


def test_history_shows_an_expiry_and_the_renewal_after_it(fund: SoapService) -> None:
    register(fund, KARIMOV, kind="reissue", reason="expiry_renewal", insurer="77002", enp=KARIMOV_ENP)
    assert history(fund, KARIMOV_ENP).all("Event/Type") == ["issued", "expired", "reissued"]


def test_refuses_history_of_an_unknown_enp(fund: SoapService) -> None:
    assert history(fund, "7754900882000015").refusal == ("ENP_NOT_FOUND", "Enp")


def test_registered_at_is_a_utc_date_time(fund: SoapService) -> None:
    registered_at = register(fund, NEWCOMER).get("RegisteredAt") or ""
    assert registered_at.startswith("2026-06-15T") and registered_at.endswith("Z")


def test_finds_a_person_by_snils_by_enp_and_by_name_and_document(fund: SoapService) -> None:
    by_snils = call(fund, "FindPerson", f("Snils", MOROZOV["Snils"]))
    by_enp = call(fund, "FindPerson", f("Enp", MOROZOV_ENP))
    by_name = call(
        fund,
        "FindPerson",
        f(
            "NameAndDocument",
            f("LastName", "Морозов"),
            f("FirstName", "Дмитрий"),
            f("BirthDate", "1985-11-30"),
            # NameAndDocument/Document is declared in fund.xsd.
            document_xml("Document", MOROZOV["IdentityDocument"], namespace=FUND),
        ),
    )
    for answer in (by_snils, by_enp, by_name):
        assert (answer.get("Found"), answer.get("Person/Enp")) == ("true", MOROZOV_ENP)
    assert by_enp.get("Person/Policy/InsurerCode") == "77001"


def test_reports_not_found_for_an_unknown_person(fund: SoapService) -> None:
    answer = call(fund, "FindPerson", f("Snils", "11223344595"))
    assert (answer.get("Found"), answer.get("Person")) == ("false", None)


def test_finds_a_deceased_person_with_the_death_date(fund: SoapService) -> None:
    answer = call(fund, "FindPerson", f("Enp", SIDOROV_ENP))
    assert (answer.get("Person/DeathDate"), answer.get("Person/Policy/Status")) == ("2025-03-10", "annulled")


def test_lists_insurers_admitted_in_the_region_today_without_the_one_whose_contract_ended(fund: SoapService) -> None:
    answer = call(fund, "ListInsurers", f("RegionCode", "77"))
    assert answer.all("Insurer/Code") == ["77001", "77002"]
    assert answer.all("Insurer/PolicyForm")[:3] == ["electronic", "paper", "plastic"]


def test_lists_insurers_admitted_on_a_past_date(fund: SoapService) -> None:
    answer = call(fund, "ListInsurers", f("RegionCode", "77"), f("OnDate", "2024-06-01"))
    assert answer.all("Insurer/Code") == ["77001", "77002", "77003"]


def test_lists_no_insurers_in_a_region_without_any(fund: SoapService) -> None:
    assert call(fund, "ListInsurers", f("RegionCode", "99")).all("Insurer/Code") == []


# --- the registry as the insurer mocks and QA use it -----------------------------------------------------------


def test_registry_answers_insurers_and_current_policies(registry: Registry) -> None:
    insurer = registry.insurer("77003")
    assert insurer is not None and insurer.admitted_to == date(2024, 12, 31) and insurer.policy_forms == ("paper",)
    policy = registry.current_policy(KARIMOV_ENP)
    assert policy is not None and policy.status_on(registry.today()) == "expired"
    assert registry.current_policy("7754900882000015") is None


def test_reset_goes_back_to_the_seed(fund: SoapService, registry: Registry) -> None:
    register(fund, NEWCOMER)
    registry.reset()
    assert registry.registration_count() == 0
    assert verify(fund, NEWCOMER).get("Outcome") == "new"


def test_seeded_enps_follow_the_registry_rule(registry: Registry) -> None:
    for enp in (MOROZOV_ENP, LEBEDEVA_ENP, KARIMOV_ENP, SOKOLOVA_ENP, SIDOROV_ENP):
        record = registry.person(enp)
        assert record is not None
        assert enp == make_enp("77", record.birth_date, record.sex, 1)
