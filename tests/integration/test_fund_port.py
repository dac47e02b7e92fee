"""The fund's port, held to one contract: FakeFund answers and refuses as FundAdapter over the mocks does.

Every test runs twice: on FakeFund (seeded with the mocks' insurers and clinics) and on FundAdapter talking to the
mocks over HTTP. The mocks are the reference: where the two disagree, the fake is wrong. Applicants are new to both
registries (tests.integration.new_person), so the answers depend on what the tests did through the port alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from adapters import FundAdapter
from gateway.domain.clinics import Attachment, AttachmentReason, Period, PolicyCard, PolicyEvent, PolicyEventType
from gateway.domain.identifiers import enp_facet, enp_violations
from gateway.domain.model import Holder, Person, Policy, PolicyStatus, Source
from gateway.domain.registry import AttachmentRequest, RegistrationResult
from gateway.ports import BackendRefusal, FundPort, NotFound
from mocks.calendar import anniversary, moscow_today
from tests.support.applicants import first_choice, message_id, new_person
from tests.support.fakes import fake_fund_like_the_mocks
from tests.support.services import RunningMocks
from tests.support.signing import signing_for

UNKNOWN_ENP = "7754900882999992"  # a valid check digit, no such person in either registry


@pytest.fixture(params=["fake", pytest.param("mocks", marks=pytest.mark.network)])
def fund(request: pytest.FixtureRequest) -> Iterator[FundPort]:
    if request.param == "fake":
        yield fake_fund_like_the_mocks()
        return
    mocks: RunningMocks = request.getfixturevalue("mocks_server")
    adapter = FundAdapter(mocks.fund_url, timeout=10, signing=signing_for(mocks.fund_url))
    yield adapter
    adapter.close()


def today() -> date:
    """The registries' calendar day (Moscow's)."""
    return moscow_today()


def registered(fund: FundPort, person: Person | None = None, on: date | None = None) -> RegistrationResult:
    """A new person's first choice of 77001 in region 77, registered on `on` (today by default)."""
    return fund.register_policy(message_id("register"), first_choice(person or new_person(), on=on or today()))


def refusal(caught: pytest.ExceptionInfo[BackendRefusal]) -> tuple[Source, str, str | None, date | None]:
    return caught.value.source, caught.value.code, caught.value.field, caught.value.allowed_from


# --- registering and verifying -------------------------------------------------------------------------------


def test_a_person_new_to_the_registry_is_verified_as_new(fund: FundPort) -> None:
    verification = fund.verify_person(message_id("verify"), new_person())

    assert (verification.known, verification.enp, verification.policy) == (False, None, None)


def test_a_first_choice_assigns_an_enp_of_the_region_and_an_active_policy_from_the_application_date(
    fund: FundPort,
) -> None:
    person, day = new_person(), today() - timedelta(days=3)

    result = registered(fund, person, on=day)

    assert result.enp_assigned is True
    assert enp_violations(result.enp) == []
    assert result.enp.startswith("77" + enp_facet(person.birth_date, person.sex))
    assert result.registration_id.startswith("RG-")
    holder = Holder(person.last_name, person.first_name, person.birth_date, person.sex, person.middle_name)
    assert result.policy == Policy(result.enp, PolicyStatus.ACTIVE, "77001", "77", "electronic", day, holder)


def test_registering_again_with_the_same_message_id_answers_the_first_result(fund: FundPort) -> None:
    mid, registration = message_id("register"), first_choice(new_person())

    first = fund.register_policy(mid, registration)

    assert fund.register_policy(mid, registration) == first


def test_a_registered_person_is_verified_as_known_with_their_policy(fund: FundPort) -> None:
    person = new_person()
    result = registered(fund, person)

    by_person = fund.verify_person(message_id("verify"), person)
    by_enp = fund.verify_person(message_id("verify"), replace(person, snils=None), result.enp)

    assert (by_person.known, by_person.enp, by_person.policy) == (True, result.enp, result.policy)
    assert (by_enp.known, by_enp.enp, by_enp.policy) == (True, result.enp, result.policy)


def test_a_wrong_snils_check_number_is_refused_on_person_snils(fund: FundPort) -> None:
    person = new_person()
    assert person.snils is not None
    wrong = person.snils[:-2] + f"{(int(person.snils[-2:]) + 1) % 100:02d}"

    with pytest.raises(BackendRefusal) as refused:
        fund.verify_person(message_id("verify"), replace(person, snils=wrong))

    assert refusal(refused) == (Source.FUND, "SNILS_CHECKSUM", "person.snils", None)


def test_an_insurer_not_admitted_in_the_region_is_refused_on_insurer_code(fund: FundPort) -> None:
    with pytest.raises(BackendRefusal) as refused:
        fund.register_policy(message_id("register"), first_choice(new_person(), insurer_code="50001"))

    assert refusal(refused) == (Source.FUND, "INSURER_NOT_ADMITTED", "insurer_code", None)


# --- finding -------------------------------------------------------------------------------------------------


def test_a_registered_person_is_found_by_enp_and_by_snils_with_their_policy(fund: FundPort) -> None:
    person = new_person()
    result = registered(fund, person)
    assert person.snils is not None

    by_enp = fund.find_person(message_id("find"), result.enp)
    by_snils = fund.find_person_by_snils(message_id("find"), person.snils)

    assert by_enp is not None
    assert by_enp == by_snils
    recorded = by_enp.person
    assert (recorded.last_name, recorded.first_name, recorded.middle_name) == (
        person.last_name,
        person.first_name,
        person.middle_name,
    )
    assert (recorded.birth_date, recorded.sex, recorded.citizenship) == (person.birth_date, person.sex, "RUS")
    assert (by_enp.enp, recorded.snils, by_enp.death_date) == (result.enp, person.snils, None)
    assert recorded.identity_document == person.identity_document
    assert by_enp.policy == result.policy


def test_an_unknown_enp_or_snils_is_found_as_none(fund: FundPort) -> None:
    assert fund.find_person(message_id("find"), UNKNOWN_ENP) is None
    assert fund.find_person_by_snils(message_id("find"), new_person().snils or "") is None


# --- reading the policy ---------------------------------------------------------------------------------------


def test_the_insurance_status_and_the_card_read_the_registered_policy(fund: FundPort) -> None:
    result = registered(fund)

    assert fund.insurance_status(message_id("status"), result.enp) == result.policy
    assert fund.policy_card(message_id("card"), result.enp) == PolicyCard(result.policy, None)


def test_the_history_of_a_first_choice_is_the_issue_of_the_policy(fund: FundPort) -> None:
    day = today() - timedelta(days=10)
    result = registered(fund, on=day)

    history = fund.policy_history(message_id("history"), result.enp)

    assert history == [PolicyEvent(day, PolicyEventType.ISSUED, "77001", "77", "electronic", "first_choice")]


def test_a_policy_issued_today_has_no_visits_yet(fund: FundPort) -> None:
    result = registered(fund)

    assert fund.visits(message_id("visits"), result.enp, Period()) == []


def test_a_period_that_ends_before_it_starts_is_refused(fund: FundPort) -> None:
    result = registered(fund)
    period = Period(today(), today() - timedelta(days=1))

    with pytest.raises(BackendRefusal) as refused:
        fund.visits(message_id("visits"), result.enp, period)

    assert refusal(refused) == (Source.FUND, "VISITS_PERIOD_INVALID", None, None)


@pytest.mark.parametrize("read", ["insurance_status", "policy_card", "policy_history", "visits"])
def test_every_read_by_an_unknown_enp_is_not_found(fund: FundPort, read: str) -> None:
    arguments: tuple[object, ...] = (Period(),) if read == "visits" else ()

    with pytest.raises(NotFound):
        getattr(fund, read)(message_id(read), UNKNOWN_ENP, *arguments)


# --- insurers and clinics -----------------------------------------------------------------------------------


def test_the_insurers_admitted_in_a_region_today_are_listed_by_code(fund: FundPort) -> None:
    insurers = fund.list_insurers(message_id("insurers"), "77")

    assert [(insurer.code, insurer.region_code) for insurer in insurers] == [("77001", "77"), ("77002", "77")]
    assert insurers[0].policy_forms == ("electronic", "paper", "plastic")
    assert insurers[0].name == "АО «Столичная медицинская страховая компания»"
    assert fund.list_insurers(message_id("insurers"), "99") == []


def test_the_clinics_of_a_region_are_listed_by_code_with_whether_they_take_more_people(fund: FundPort) -> None:
    clinics = fund.list_clinics(message_id("clinics"), "77")

    assert [(clinic.code, clinic.accepts_attachment) for clinic in clinics] == [
        ("770101", True),
        ("770102", True),
        ("770103", False),
    ]
    assert clinics[0].name == "ГБУЗ «Городская поликлиника № 301»"
    assert clinics[0].address == "г. Москва, ул. Примерная, д. 1"
    assert fund.list_clinics(message_id("clinics"), "99") == []


# --- attaching to a clinic ------------------------------------------------------------------------------------


def test_an_attachment_is_recorded_answered_again_for_its_message_id_and_read_back(fund: FundPort) -> None:
    result = registered(fund)
    assert fund.policy_card(message_id("card"), result.enp).attachment is None
    mid, request = message_id("attach"), AttachmentRequest(result.enp, "770102", today())

    attached = fund.attach_to_clinic(mid, request)

    assert attached == Attachment(
        result.enp,
        "770102",
        "ГБУЗ «Городская поликлиника № 302»",
        today(),
        AttachmentReason.CHOICE,
        attached.attachment_id,
    )
    assert attached.attachment_id is not None and attached.attachment_id.startswith("AT-")
    assert fund.attach_to_clinic(mid, request) == attached
    assert fund.policy_card(message_id("card"), result.enp).attachment == attached
    assert fund.policy_card(message_id("card"), result.enp) == PolicyCard(result.policy, attached)


@pytest.mark.parametrize(
    ("clinic_code", "code"),
    [("999999", "CLINIC_UNKNOWN"), ("500101", "CLINIC_OTHER_REGION"), ("770103", "CLINIC_FULL")],
)
def test_an_attachment_to_a_clinic_that_cannot_take_the_person_is_refused(
    fund: FundPort, clinic_code: str, code: str
) -> None:
    result = registered(fund)

    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, clinic_code, today()))

    assert refusal(refused) == (Source.FUND, code, None, None)
    assert fund.policy_card(message_id("card"), result.enp).attachment is None


def test_an_attachment_to_the_clinic_already_chosen_is_refused(fund: FundPort) -> None:
    result = registered(fund)
    fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, "770101", today()))

    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, "770101", today()))

    assert refusal(refused) == (Source.FUND, "CLINIC_ALREADY_ATTACHED", None, None)


def test_a_second_choice_within_a_year_is_refused_until_the_anniversary_but_a_relocation_is_not(
    fund: FundPort,
) -> None:
    first_day = today() - timedelta(days=40)
    result = registered(fund, on=first_day - timedelta(days=10))
    fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, "770101", first_day))

    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, "770102", today()))
    moved = AttachmentRequest(result.enp, "770102", today() - timedelta(days=1), AttachmentReason.RELOCATION)
    relocated = fund.attach_to_clinic(message_id("attach"), moved)
    with pytest.raises(BackendRefusal) as again:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(result.enp, "770101", today()))

    assert refusal(refused) == (Source.FUND, "CLINIC_CHANGE_LIMIT", None, anniversary(first_day, 1))
    assert (relocated.clinic_code, relocated.reason) == ("770102", AttachmentReason.RELOCATION)
    assert refusal(again) == refusal(refused), "the year runs from the last choice, not from a relocation"


def test_an_attachment_before_the_policy_is_in_force_is_refused(fund: FundPort) -> None:
    result = registered(fund)

    request = AttachmentRequest(result.enp, "770101", today() - timedelta(days=1))

    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), request)

    assert refusal(refused) == (Source.FUND, "POLICY_NOT_ACTIVE", "enp", None)
