"""Conformance of a fund (ТФОМС / ЕРЗЛ) service to contracts/fund: every operation, every refusal it defines.

Run against another implementation with `pytest tests/contract --fund-url http://host:port/path`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from stdnum import luhn
from zeep.exceptions import Fault

from tests.support.conformance import HOME_REGION, OTHER_REGION, admitted_insurers
from tests.support.people import bad_snils, enp_facet, message_id, new_enp, new_snils, person
from tests.support.soap import FaultInfo, ServiceUnderTest, fault_info

# The tests talk to the service under test (the mocks over HTTP by default).
pytestmark = [pytest.mark.conformance, pytest.mark.network]

TODAY = date.today()


def register(
    fund: ServiceUnderTest,
    applicant: dict[str, Any],
    insurer: str,
    *,
    on: date = TODAY,
    region: str = HOME_REGION,
    kind: str = "insurer_choice",
    reason: str = "first_choice",
    enp: str | None = None,
    mid: str | None = None,
) -> dict[str, Any]:
    """Register an application and return the answer."""
    return fund.call(
        "RegisterPolicy",
        MessageId=mid or message_id("register"),
        ApplicationDate=on,
        ApplicationType=kind,
        Reason=reason,
        Person=applicant,
        Enp=enp,
        InsurerCode=insurer,
        RegionCode=region,
        PolicyForm="electronic",
    )


def refusal(call: Any, *args: Any, **kwargs: Any) -> FaultInfo:
    """Call and return the business fault it must answer."""
    with pytest.raises(Fault) as caught:
        call(*args, **kwargs)
    info = fault_info(caught.value)
    assert info.kind == "BusinessFault", info
    assert info.faultcode.endswith("Client"), info
    return info


@pytest.fixture(scope="module")
def home_insurers(fund: ServiceUnderTest) -> list[str]:
    codes = [entry["Code"] for entry in admitted_insurers(fund, HOME_REGION)]
    assert len(codes) >= 2, "the test registry needs two insurers admitted in region 77"
    return codes


def test_list_insurers_names_only_insurers_admitted_in_the_region(fund: ServiceUnderTest) -> None:
    for region in (HOME_REGION, OTHER_REGION):
        listed = admitted_insurers(fund, region)
        assert listed, f"no insurer admitted in {region}"
        for entry in listed:
            assert entry["RegionCode"] == region
            assert entry["AdmittedFrom"] <= TODAY
            assert entry["AdmittedTo"] is None or entry["AdmittedTo"] >= TODAY
            assert entry["PolicyForm"], "an insurer issues at least one form"


def test_a_new_person_gets_an_enp_with_the_region_birth_facet_and_check_digit(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    applicant = person(sex="female", birth_date=date(1990, 5, 17))
    answer = register(fund, applicant, home_insurers[0])
    enp = answer["Enp"]
    assert answer["EnpAssigned"] is True
    assert enp[:2] == HOME_REGION
    assert enp[2:10] == enp_facet(date(1990, 5, 17), "female") == "54900882"
    assert luhn.is_valid(enp)
    assert answer["Policy"]["Enp"] == enp
    assert answer["Policy"]["Status"] == "active"
    assert answer["Policy"]["InsurerCode"] == home_insurers[0]
    assert answer["Policy"]["ValidTo"] is None, "a citizen's policy has no end date"


def test_verify_person_tells_a_new_person_from_a_known_one(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person()
    before = fund.call("VerifyPerson", MessageId=message_id("verify"), Person=applicant)
    assert before["Outcome"] == "new"
    assert before["Enp"] is None
    enp = register(fund, applicant, home_insurers[0])["Enp"]
    after = fund.call("VerifyPerson", MessageId=message_id("verify"), Person=applicant)
    assert after["Outcome"] == "known"
    assert after["Enp"] == enp
    assert after["Policy"]["InsurerCode"] == home_insurers[0]


def test_find_person_finds_a_registered_person_by_each_search_key(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    applicant = person()
    enp = register(fund, applicant, home_insurers[0])["Enp"]
    by_name_and_document = {
        "LastName": applicant["LastName"],
        "FirstName": applicant["FirstName"],
        "MiddleName": applicant["MiddleName"],
        "BirthDate": applicant["BirthDate"],
        "Document": applicant["IdentityDocument"],
    }
    for key in ({"Snils": applicant["Snils"]}, {"Enp": enp}, {"NameAndDocument": by_name_and_document}):
        answer = fund.call("FindPerson", MessageId=message_id("find"), **key)
        assert answer["Found"] is True, key
        assert answer["Person"]["Enp"] == enp
        assert answer["Person"]["Snils"] == applicant["Snils"]
        assert answer["Person"]["BirthDate"] == applicant["BirthDate"]


def test_find_person_answers_not_found_for_an_unknown_snils(fund: ServiceUnderTest) -> None:
    answer = fund.call("FindPerson", MessageId=message_id("find"), Snils=new_snils())
    assert answer["Found"] is False
    assert answer["Person"] is None


def test_insurance_status_and_history_of_a_registered_policy(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person()
    enp = register(fund, applicant, home_insurers[0])["Enp"]
    status = fund.call("GetInsuranceStatus", MessageId=message_id("status"), Enp=enp)["Policy"]
    assert (status["Enp"], status["Status"], status["InsurerCode"]) == (enp, "active", home_insurers[0])
    assert status["Holder"]["LastName"] == applicant["LastName"]
    history = fund.call("GetPolicyHistory", MessageId=message_id("history"), Enp=enp)
    assert history["Enp"] == enp
    assert [event["Type"] for event in history["Event"]] == ["issued"]


def test_the_same_message_id_registers_once(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person()
    mid = message_id("repeat")
    first = register(fund, applicant, home_insurers[0], mid=mid)
    again = register(fund, applicant, home_insurers[0], mid=mid)
    assert again["RegistrationId"] == first["RegistrationId"]
    assert again["Enp"] == first["Enp"]
    history = fund.call("GetPolicyHistory", MessageId=message_id("history"), Enp=first["Enp"])
    assert len(history["Event"]) == 1


def test_an_unknown_enp_is_refused_as_not_found(fund: ServiceUnderTest) -> None:
    for operation in ("GetInsuranceStatus", "GetPolicyHistory"):
        info = refusal(getattr(fund.service, operation), MessageId=message_id("unknown"), Enp=new_enp())
        assert info.code == "ENP_NOT_FOUND", operation


def test_a_wrong_snils_check_number_is_refused(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    info = refusal(fund.service.VerifyPerson, MessageId=message_id("verify"), Person=person(Snils=bad_snils()))
    assert (info.code, info.field) == ("SNILS_CHECKSUM", "Person/Snils")


def test_an_all_zeros_snils_is_refused(fund: ServiceUnderTest) -> None:
    info = refusal(fund.service.VerifyPerson, MessageId=message_id("verify"), Person=person(Snils="00000000000"))
    assert (info.code, info.field) == ("SNILS_FORMAT", "Person/Snils")


def test_a_stateless_persons_residence_permit_is_identity_and_stay_document(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    # 115-ФЗ: a stateless person's permit is their identity document too; the policy ends with it (DOMAIN.md).
    expiry = TODAY + timedelta(days=30)
    permit = {"Type": "residence_permit", "Series": "83", "Number": new_snils()[2:9], "IssueDate": date(2021, 3, 1),
              "ExpiryDate": expiry}  # fmt: skip
    stateless = person(Citizenship="stateless", Category="stateless_permanent", Snils=None, IdentityDocument=permit)
    answer = register(fund, stateless, home_insurers[0])
    assert answer["Policy"]["ValidTo"] == min(expiry, date(TODAY.year, 12, 31))


def test_a_second_choice_of_the_same_insurer_is_refused(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person()
    register(fund, applicant, home_insurers[0])
    info = refusal(register, fund, applicant, home_insurers[0])
    assert info.code == "ALREADY_INSURED_SAME_INSURER"


def test_a_snils_registered_to_another_person_is_refused(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    owner = person(sex="male", birth_date=date(1970, 2, 3))
    register(fund, owner, home_insurers[0])
    impostor = person(sex="female", birth_date=date(1985, 7, 9), Snils=owner["Snils"], LastName="Другова")
    info = refusal(fund.service.VerifyPerson, MessageId=message_id("verify"), Person=impostor)
    assert (info.code, info.field) == ("SNILS_OTHER_PERSON", "Person/Snils")


def test_a_document_registered_to_another_person_is_refused(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    owner = person(sex="male", birth_date=date(1971, 4, 5))
    register(fund, owner, home_insurers[0])
    other = person(
        sex="female",
        birth_date=date(1986, 8, 10),
        LastName="Иная",
        IdentityDocument=owner["IdentityDocument"],
    )
    info = refusal(fund.service.VerifyPerson, MessageId=message_id("verify"), Person=other)
    assert info.code == "DOCUMENT_OTHER_PERSON"


def test_data_that_disagree_with_the_record_are_refused(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person(sex="female")
    register(fund, applicant, home_insurers[0])
    changed = dict(applicant, FirstName="Ксения")
    info = refusal(fund.service.VerifyPerson, MessageId=message_id("verify"), Person=changed)
    assert (info.code, info.field) == ("REGISTRY_DATA_MISMATCH", "Person/FirstName")


def test_an_insurer_not_admitted_in_the_region_is_refused(fund: ServiceUnderTest) -> None:
    elsewhere = admitted_insurers(fund, OTHER_REGION)[0]["Code"]
    info = refusal(register, fund, person(), elsewhere, region=HOME_REGION)
    assert (info.code, info.field) == ("INSURER_NOT_ADMITTED", "InsurerCode")


def test_a_second_insurer_change_by_wish_in_one_calendar_year_is_refused(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    first, second = home_insurers[:2]
    applicant = person()
    enp = register(fund, applicant, first, on=date(2025, 1, 15))["Enp"]
    changed = register(fund, applicant, second, on=date(2025, 3, 2), reason="own_wish", enp=enp)
    assert changed["Enp"] == enp, "an insurer change keeps the ЕНП"
    assert changed["Policy"]["InsurerCode"] == second
    info = refusal(register, fund, applicant, first, on=date(2025, 6, 1), reason="own_wish", enp=enp)
    assert info.code == "INSURER_CHANGE_LIMIT"
    assert info.allowed_from == "2026-01-01"


def test_an_insurer_change_by_wish_after_1_november_is_refused(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    first, second = home_insurers[:2]
    applicant = person()
    enp = register(fund, applicant, first, on=date(2024, 2, 1))["Enp"]
    info = refusal(register, fund, applicant, second, on=date(2025, 11, 2), reason="own_wish", enp=enp)
    assert info.code == "INSURER_CHANGE_AFTER_NOVEMBER"
    assert info.allowed_from == "2026-01-01"
    on_the_first = register(fund, applicant, second, on=date(2025, 11, 1), reason="own_wish", enp=enp)
    assert on_the_first["Policy"]["InsurerCode"] == second, "1 November itself is still allowed"


def test_a_reason_that_does_not_fit_the_application_type_is_refused(
    fund: ServiceUnderTest, home_insurers: list[str]
) -> None:
    info = refusal(register, fund, person(), home_insurers[0], reason="loss")
    assert (info.code, info.field) == ("REPLACEMENT_REASON_NOT_APPLICABLE", "Reason")


def test_a_name_change_reissue_keeps_the_enp(fund: ServiceUnderTest, home_insurers: list[str]) -> None:
    applicant = person(sex="female")
    enp = register(fund, applicant, home_insurers[0], on=date(2025, 2, 1))["Enp"]
    renamed = dict(applicant, LastName="Новикова")
    answer = register(fund, renamed, home_insurers[0], kind="reissue", reason="personal_data_change", enp=enp)
    assert answer["Enp"] == enp
    assert answer["EnpAssigned"] is False
    assert answer["Policy"]["Holder"]["LastName"] == "Новикова"
    events = fund.call("GetPolicyHistory", MessageId=message_id("history"), Enp=enp)["Event"]
    assert [event["Type"] for event in events] == ["issued", "reissued"]


# --- version 2: clinics, attachment and visits (fund-v2.xsd) -------------------------------------------------


def clinics_in(fund: ServiceUnderTest, region: str) -> list[dict[str, Any]]:
    """Clinics the fund lists as admitted in a region."""
    clinics: list[dict[str, Any]] = fund.call("ListClinics", MessageId=message_id("clinics"), RegionCode=region)[
        "Clinic"
    ]
    return clinics


def attach(
    fund: ServiceUnderTest, enp: str, clinic: str, *, reason: str = "choice", mid: str | None = None
) -> dict[str, Any]:
    """Attach a person to a clinic today and return the attachment."""
    answer = fund.call(
        "AttachToClinic",
        MessageId=mid or message_id("attach"),
        Enp=enp,
        ClinicCode=clinic,
        ApplicationDate=TODAY,
        Reason=reason,
    )
    attachment: dict[str, Any] = answer["Attachment"]
    return attachment


def a_year_after(day: date) -> date:
    """The same day a year later (1 March after 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


@pytest.fixture(scope="module")
def open_clinics(fund: ServiceUnderTest) -> list[str]:
    codes = [clinic["Code"] for clinic in clinics_in(fund, HOME_REGION) if clinic["AcceptsAttachment"]]
    assert len(codes) >= 2, "the test registry needs two clinics in region 77 that accept attachments"
    return codes


@pytest.fixture
def insured(fund: ServiceUnderTest, home_insurers: list[str]) -> str:
    """The ЕНП of a new person insured in region 77 since 2023."""
    enp: str = register(fund, person(), home_insurers[0], on=date(2023, 1, 16))["Enp"]
    return enp


def test_list_clinics_names_only_clinics_of_the_region(fund: ServiceUnderTest) -> None:
    for region in (HOME_REGION, OTHER_REGION):
        listed = clinics_in(fund, region)
        assert listed, f"no clinic admitted in {region}"
        assert {clinic["RegionCode"] for clinic in listed} == {region}
        assert len({clinic["Code"] for clinic in listed}) == len(listed), "a clinic is listed twice"


def test_a_person_attaches_to_a_clinic_of_their_region_and_the_fund_reads_it_back(
    fund: ServiceUnderTest, insured: str, open_clinics: list[str]
) -> None:
    before = fund.call("GetAttachment", MessageId=message_id("attachment"), Enp=insured)
    assert (before["Enp"], before["Attachment"]) == (insured, None)
    attachment = attach(fund, insured, open_clinics[0])
    assert (attachment["Enp"], attachment["ClinicCode"]) == (insured, open_clinics[0])
    assert (attachment["Since"], attachment["Reason"]) == (TODAY, "choice")
    assert attachment["ClinicName"]
    after = fund.call("GetAttachment", MessageId=message_id("attachment"), Enp=insured)["Attachment"]
    assert after == attachment


def test_the_policy_card_answers_the_status_and_the_attachment_in_one_call(
    fund: ServiceUnderTest, insured: str, open_clinics: list[str]
) -> None:
    def status() -> dict[str, Any]:
        return fund.call("GetInsuranceStatus", MessageId=message_id("status"), Enp=insured)["Policy"]

    before = fund.call("GetPolicyCard", MessageId=message_id("card"), Enp=insured)
    assert (before["Policy"], before["Attachment"]) == (status(), None)
    attach(fund, insured, open_clinics[0])
    after = fund.call("GetPolicyCard", MessageId=message_id("card"), Enp=insured)
    attached = fund.call("GetAttachment", MessageId=message_id("attachment"), Enp=insured)["Attachment"]
    assert (after["Policy"], after["Attachment"]) == (status(), attached)


def test_the_policy_card_of_an_enp_without_a_policy_is_refused_as_the_status_is(fund: ServiceUnderTest) -> None:
    unknown = new_enp()
    for operation in ("GetInsuranceStatus", "GetPolicyCard"):
        info = refusal(getattr(fund.service, operation), MessageId=message_id("unknown"), Enp=unknown)
        assert info.code == "ENP_NOT_FOUND", operation


def test_the_same_attachment_message_id_attaches_once(
    fund: ServiceUnderTest, insured: str, open_clinics: list[str]
) -> None:
    mid = message_id("attach-repeat")
    first = attach(fund, insured, open_clinics[0], mid=mid)
    again = attach(fund, insured, open_clinics[0], mid=mid)
    assert again == first


def test_attaching_again_to_the_same_clinic_is_refused(
    fund: ServiceUnderTest, insured: str, open_clinics: list[str]
) -> None:
    attach(fund, insured, open_clinics[0])
    info = refusal(attach, fund, insured, open_clinics[0], reason="relocation")
    assert (info.code, info.field) == ("CLINIC_ALREADY_ATTACHED", "ClinicCode")


def test_a_second_choice_of_clinic_within_a_year_is_refused_unless_moving(
    fund: ServiceUnderTest, insured: str, open_clinics: list[str]
) -> None:
    first, second = open_clinics[:2]
    attach(fund, insured, first)
    info = refusal(attach, fund, insured, second)
    assert (info.code, info.field) == ("CLINIC_CHANGE_LIMIT", "Reason")
    assert info.allowed_from == a_year_after(TODAY).isoformat()
    moved = attach(fund, insured, second, reason="relocation")
    assert (moved["ClinicCode"], moved["Reason"]) == (second, "relocation")


def test_a_clinic_of_another_region_is_refused(fund: ServiceUnderTest, insured: str) -> None:
    elsewhere = clinics_in(fund, OTHER_REGION)[0]["Code"]
    info = refusal(attach, fund, insured, elsewhere)
    assert (info.code, info.field) == ("CLINIC_OTHER_REGION", "ClinicCode")


def test_a_full_clinic_is_refused(fund: ServiceUnderTest, insured: str) -> None:
    full = [clinic["Code"] for clinic in clinics_in(fund, HOME_REGION) if not clinic["AcceptsAttachment"]]
    assert full, "the test registry needs a clinic in region 77 that accepts no more attachments"
    info = refusal(attach, fund, insured, full[0])
    assert (info.code, info.field) == ("CLINIC_FULL", "ClinicCode")


def test_an_unknown_clinic_is_refused(fund: ServiceUnderTest, insured: str) -> None:
    # No register gives a medical organisation the code 000000.
    info = refusal(attach, fund, insured, "000000")
    assert (info.code, info.field) == ("CLINIC_UNKNOWN", "ClinicCode")


def test_visits_are_the_same_on_every_call_and_within_the_insurance(fund: ServiceUnderTest, insured: str) -> None:
    first = fund.call("GetVisits", MessageId=message_id("visits"), Enp=insured)
    again = fund.call("GetVisits", MessageId=message_id("visits"), Enp=insured)
    assert first["Enp"] == insured
    assert first["Visit"] == again["Visit"]
    dates = [visit["Date"] for visit in first["Visit"]]
    assert dates == sorted(dates), "visits come oldest first"
    assert all(date(2023, 1, 16) <= day <= TODAY for day in dates)
    assert all(visit["AmountPaid"] >= 0 for visit in first["Visit"])


def test_visits_of_a_period_lie_within_it(fund: ServiceUnderTest, insured: str) -> None:
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    answer = fund.call("GetVisits", MessageId=message_id("visits"), Enp=insured, From=start, To=end)
    every = fund.call("GetVisits", MessageId=message_id("visits"), Enp=insured)["Visit"]
    assert answer["Visit"] == [visit for visit in every if start <= visit["Date"] <= end]


def test_a_period_that_ends_before_it_starts_is_refused(fund: ServiceUnderTest, insured: str) -> None:
    info = refusal(
        fund.service.GetVisits, MessageId=message_id("visits"), Enp=insured, From=date(2025, 2, 1), To=date(2025, 1, 1)
    )
    assert (info.code, info.field) == ("VISITS_PERIOD_INVALID", "From")


def test_version_2_operations_refuse_an_unknown_enp_as_not_found(
    fund: ServiceUnderTest, open_clinics: list[str]
) -> None:
    unknown = new_enp()
    for operation in ("GetAttachment", "GetVisits"):
        info = refusal(getattr(fund.service, operation), MessageId=message_id("unknown"), Enp=unknown)
        assert info.code == "ENP_NOT_FOUND", operation
    info = refusal(attach, fund, unknown, open_clinics[0])
    assert info.code == "ENP_NOT_FOUND"
