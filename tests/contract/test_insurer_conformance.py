"""Conformance of an insurer (СМО) service to contracts/insurer: every operation, every refusal it defines.

Run against another implementation with
`pytest tests/contract --insurer-url http://host:port/path --insurer-code 77001 [--fund-url ...]`:
re-issues need the policy registered with the fund, as in production.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from zeep.exceptions import Fault

from tests.support.conformance import InsurerUnderTest
from tests.support.people import message_id, new_enp, person
from tests.support.soap import FaultInfo, ServiceUnderTest, fault_info

# The tests talk to the service under test (the mocks over HTTP by default).
pytestmark = [pytest.mark.conformance, pytest.mark.network]

TODAY = date.today()
FORMS = ("electronic", "paper", "plastic")


def issue(insurer: InsurerUnderTest, applicant: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Send IssuePolicy with sensible defaults."""
    request: dict[str, Any] = {
        "MessageId": message_id("issue"),
        "ApplicationDate": TODAY,
        "Reason": "first_choice",
        "Person": applicant,
        "RegionCode": insurer.region_code,
        "PolicyForm": insurer.policy_forms[0],
    }
    request.update(overrides)
    return insurer.soap.call("IssuePolicy", **request)


def refusal(call: Any, *args: Any, **kwargs: Any) -> FaultInfo:
    """Call and return the business fault it must answer."""
    with pytest.raises(Fault) as caught:
        call(*args, **kwargs)
    info = fault_info(caught.value)
    assert info.kind == "BusinessFault" and info.faultcode.endswith("Client"), info
    return info


def issue_and_register(insurer: InsurerUnderTest, fund: ServiceUnderTest, applicant: dict[str, Any]) -> str:
    """Carry a first choice through the insurer and the fund, as the gateway does; return the ЕНП."""
    issued = issue(insurer, applicant)
    registered = fund.call(
        "RegisterPolicy",
        MessageId=message_id("register"),
        ApplicationDate=TODAY,
        ApplicationType="insurer_choice",
        Reason="first_choice",
        Person=applicant,
        InsurerCode=insurer.code,
        RegionCode=insurer.region_code,
        PolicyForm=issued["PolicyForm"],
        InsurerApplicationId=issued["InsurerApplicationId"],
    )
    enp: str = registered["Enp"]
    return enp


def test_every_insurer_issues_a_policy_in_each_form_it_lists(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        for form in insurer.policy_forms:
            answer = issue(insurer, person(), PolicyForm=form)
            assert answer["State"] in ("accepted", "executing", "executed"), insurer.code
            assert answer["PolicyForm"] == form
            assert answer["ValidFrom"] == TODAY
            assert answer["ValidTo"] is None, "a citizen's policy has no end date"
            has_certificate = answer["TemporaryCertificate"] is not None
            assert has_certificate == (form != "electronic"), "paper and plastic come with a temporary certificate"


def test_a_form_the_insurer_does_not_issue_is_refused(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        for form in set(FORMS) - set(insurer.policy_forms):
            info = refusal(issue, insurer, person(), PolicyForm=form)
            assert (info.code, info.field) == ("POLICY_FORM_NOT_ISSUED", "PolicyForm"), insurer.code


def test_a_region_the_insurer_does_not_serve_is_refused(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        elsewhere = "50" if insurer.region_code != "50" else "77"
        info = refusal(issue, insurer, person(), RegionCode=elsewhere)
        assert (info.code, info.field) == ("REGION_NOT_SERVED", "RegionCode"), insurer.code


def test_the_same_message_id_issues_once(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        applicant = person()
        mid = message_id("repeat")
        first = issue(insurer, applicant, MessageId=mid)
        again = issue(insurer, applicant, MessageId=mid)
        assert again["InsurerApplicationId"] == first["InsurerApplicationId"], insurer.code


def test_application_state_is_found_by_message_id_and_by_insurer_id(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        mid = message_id("state")
        issued = issue(insurer, person(), MessageId=mid)
        for key in (
            {"ApplicationMessageId": mid},
            {"InsurerApplicationId": issued["InsurerApplicationId"]},
        ):
            state = insurer.soap.call("GetApplicationState", MessageId=message_id("state"), **key)
            assert state["Found"] is True
            assert state["Result"]["InsurerApplicationId"] == issued["InsurerApplicationId"]
            assert state["Result"]["MessageId"] == mid
        unknown = insurer.soap.call(
            "GetApplicationState", MessageId=message_id("state"), ApplicationMessageId=message_id("never")
        )
        assert (unknown["Found"], unknown["Result"]) == (False, None)


def test_a_replacement_of_a_policy_the_insurer_does_not_hold_is_refused(
    insurers: list[InsurerUnderTest],
) -> None:
    for insurer in insurers:
        info = refusal(
            insurer.soap.service.ReplacePolicy,
            MessageId=message_id("replace"),
            ApplicationDate=TODAY,
            Enp=new_enp(),
            ApplicationType="duplicate",
            Reason="loss",
            Person=person(),
            RegionCode=insurer.region_code,
            PolicyForm=insurer.policy_forms[0],
        )
        assert (info.code, info.field) == ("POLICY_NOT_HELD", "Enp"), insurer.code


def test_a_registered_policy_can_be_reissued_by_its_insurer(
    insurers: list[InsurerUnderTest], fund: ServiceUnderTest
) -> None:
    for insurer in insurers:
        applicant = person(sex="female")
        enp = issue_and_register(insurer, fund, applicant)
        answer = insurer.soap.call(
            "ReplacePolicy",
            MessageId=message_id("replace"),
            ApplicationDate=TODAY,
            Enp=enp,
            ApplicationType="reissue",
            Reason="personal_data_change",
            Person=dict(applicant, LastName="Новикова"),
            RegionCode=insurer.region_code,
            PolicyForm=insurer.policy_forms[-1],
        )
        assert answer["State"] in ("accepted", "executing", "executed")
        assert answer["PolicyForm"] == insurer.policy_forms[-1]


def representative(relation: str, authority: dict[str, Any], born: date = date(1985, 4, 2)) -> dict[str, Any]:
    parent = person(sex="female", birth_date=born)
    return {
        "Relation": relation,
        "LastName": parent["LastName"],
        "FirstName": parent["FirstName"],
        "BirthDate": born,
        "Snils": parent["Snils"],
        "IdentityDocument": parent["IdentityDocument"],
        "Authority": authority,
    }


def on_behalf(insurer: InsurerUnderTest, on_behalf_of: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Send IssuePolicyOnBehalf (version 2) with sensible defaults."""
    request: dict[str, Any] = {
        "MessageId": message_id("behalf"),
        "ApplicationDate": TODAY,
        "Reason": "first_choice",
        "Person": person(),
        "RegionCode": insurer.region_code,
        "PolicyForm": insurer.policy_forms[0],
        "Representative": on_behalf_of,
    }
    request.update(overrides)
    return insurer.soap.call("IssuePolicyOnBehalf", **request)


def test_a_parent_a_guardian_and_an_attorney_may_apply_on_behalf(insurers: list[InsurerUnderTest]) -> None:
    guardianship = {"Type": "guardianship_decision", "Number": "17/245", "IssueDate": date(2024, 2, 1)}
    attorney = {"Type": "power_of_attorney", "Number": "77 АВ 1234567", "IssueDate": date(2026, 1, 10)}
    for insurer in insurers:
        for relation, authority in (("child", {"Type": "parent"}), ("ward", guardianship), ("spouse", attorney)):
            answer = on_behalf(insurer, representative(relation, authority))
            assert answer["State"] in ("accepted", "executing", "executed"), (insurer.code, relation)


def test_an_authority_that_does_not_fit_or_a_minor_representative_is_refused(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        wrong = representative("spouse", {"Type": "parent"})
        info = refusal(on_behalf, insurer, wrong)
        assert (info.code, info.field) == ("REPRESENTATIVE_AUTHORITY_INVALID", "Representative/Authority/Type")
        minor = representative("child", {"Type": "parent"}, born=TODAY.replace(year=TODAY.year - 15))
        info = refusal(on_behalf, insurer, minor)
        assert (info.code, info.field) == ("REPRESENTATIVE_NOT_ADULT", "Representative/BirthDate")


def test_the_same_message_id_on_behalf_issues_once(insurers: list[InsurerUnderTest]) -> None:
    for insurer in insurers:
        mid = message_id("behalf-repeat")
        parent = representative("child", {"Type": "parent"})
        first = on_behalf(insurer, parent, MessageId=mid)
        again = on_behalf(insurer, parent, MessageId=mid)
        assert again["InsurerApplicationId"] == first["InsurerApplicationId"]
