"""FundAdapter's history, clinics, attachment and visits against the mock fund over a real socket."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest

from adapters import FundAdapter
from gateway.domain.clinics import AttachmentReason, CareKind, Period, PolicyCard, PolicyEventType
from gateway.domain.model import RegistryReason, Source
from gateway.domain.registry import AttachmentRequest
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound
from tests.support.applicants import first_choice, message_id, new_person
from tests.support.services import RunningMocks, inject
from tests.support.signing import signing_for

# The tests talk to the mocks over HTTP.
pytestmark = pytest.mark.network

# Seed of mocks/data/registry.yaml.
MOROZOV_ENP = "7748410819000012"  # 77002 from 2012, 77001 by own wish from 2023; four fixed visits
UNKNOWN_ENP = "7754900882999992"  # a valid check digit, no such person
FULL_CLINIC = "770103"
TODAY = date.today()


@pytest.fixture
def insured(fund: FundAdapter) -> str:
    """The ЕНП of a new person insured with 77001 in region 77 since 1 February of last year."""
    registration = first_choice(new_person(), on=date(TODAY.year - 1, 2, 1))
    return fund.register_policy(message_id("register"), registration).enp


def attach(fund: FundAdapter, enp: str, clinic: str, reason: AttachmentReason = AttachmentReason.CHOICE) -> str:
    """Attach today; return the message id used."""
    mid = message_id("attach")
    fund.attach_to_clinic(mid, AttachmentRequest(enp, clinic, TODAY, reason))
    return mid


# --- history ------------------------------------------------------------------------------------------------


def test_the_history_of_a_seeded_person_lists_the_issue_and_the_change_of_insurer(fund: FundAdapter) -> None:
    events = fund.policy_history(message_id("history"), MOROZOV_ENP)

    assert [(event.type, event.insurer_code, event.reason) for event in events] == [
        (PolicyEventType.ISSUED, "77002", "first_choice"),
        (PolicyEventType.INSURER_CHANGED, "77001", "own_wish"),
    ]
    assert events[1].date == date(2023, 1, 10)
    assert (events[1].region_code, events[1].policy_form) == ("77", "electronic")


def test_the_history_follows_a_registered_change_of_insurer(fund: FundAdapter) -> None:
    # Dated last year, so the run does not depend on today's date and the 1 November limit.
    year = TODAY.year - 1
    person = new_person()
    enp = fund.register_policy(message_id("register"), first_choice(person, on=date(year, 2, 1))).enp
    change = first_choice(person, insurer_code="77002", on=date(year, 3, 2), reason=RegistryReason.OWN_WISH, enp=enp)
    fund.register_policy(message_id("register"), change)

    events = fund.policy_history(message_id("history"), enp)

    assert [(event.date, event.type, event.insurer_code) for event in events] == [
        (date(year, 2, 1), PolicyEventType.ISSUED, "77001"),
        (date(year, 3, 2), PolicyEventType.INSURER_CHANGED, "77002"),
    ]


def test_the_history_of_an_unknown_enp_is_not_found(fund: FundAdapter) -> None:
    with pytest.raises(NotFound):
        fund.policy_history(message_id("history"), UNKNOWN_ENP)


# --- clinics and attachment ---------------------------------------------------------------------------------


def test_the_clinics_of_a_region_are_listed_with_whether_they_take_more(fund: FundAdapter) -> None:
    clinics = fund.list_clinics(message_id("clinics"), "77")

    assert [clinic.code for clinic in clinics] == ["770101", "770102", FULL_CLINIC]
    assert [clinic.accepts_attachment for clinic in clinics] == [True, True, False]
    assert clinics[0].name == "ГБУЗ «Городская поликлиника № 301»"
    assert (clinics[0].region_code, clinics[0].address) == ("77", "г. Москва, ул. Примерная, д. 1")
    assert [clinic.region_code for clinic in fund.list_clinics(message_id("clinics"), "50")] == ["50", "50"]


def test_a_person_attaches_to_a_clinic_and_the_attachment_is_read_back(fund: FundAdapter, insured: str) -> None:
    assert fund.policy_card(message_id("card"), insured).attachment is None

    made = fund.attach_to_clinic(message_id("attach"), AttachmentRequest(insured, "770102", TODAY))

    assert (made.enp, made.clinic_code, made.since, made.reason) == (insured, "770102", TODAY, AttachmentReason.CHOICE)
    assert made.clinic_name == "ГБУЗ «Городская поликлиника № 302»"
    assert made.attachment_id
    assert fund.policy_card(message_id("card"), insured).attachment == made


def test_attaching_again_with_the_same_message_id_answers_the_first_attachment(fund: FundAdapter, insured: str) -> None:
    mid = message_id("attach")
    first = fund.attach_to_clinic(mid, AttachmentRequest(insured, "770101", TODAY))

    again = fund.attach_to_clinic(mid, AttachmentRequest(insured, "770102", TODAY))

    assert again == first


def test_a_full_clinic_is_a_refusal_of_the_fund(fund: FundAdapter, insured: str) -> None:
    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(insured, FULL_CLINIC, TODAY))

    assert (refused.value.source, refused.value.code) == (Source.FUND, "CLINIC_FULL")
    assert refused.value.field is None  # "ClinicCode": the use case names the request's field
    assert refused.value.message


def test_a_clinic_of_another_region_is_refused(fund: FundAdapter, insured: str) -> None:
    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(insured, "500101", TODAY))

    assert refused.value.code == "CLINIC_OTHER_REGION"


def test_a_second_choice_within_a_year_is_refused_with_the_day_it_becomes_possible(
    fund: FundAdapter, insured: str
) -> None:
    attach(fund, insured, "770101")

    with pytest.raises(BackendRefusal) as refused:
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(insured, "770102", TODAY))

    assert refused.value.code == "CLINIC_CHANGE_LIMIT"
    assert refused.value.allowed_from is not None
    assert refused.value.allowed_from - TODAY in (timedelta(days=365), timedelta(days=366))
    moved = fund.attach_to_clinic(
        message_id("attach"), AttachmentRequest(insured, "770102", TODAY, AttachmentReason.RELOCATION)
    )
    assert moved.reason is AttachmentReason.RELOCATION


def test_the_policy_card_is_the_status_and_the_attachment_read_in_one_call(fund: FundAdapter, insured: str) -> None:
    status = fund.insurance_status(message_id("status"), insured)
    assert fund.policy_card(message_id("card"), insured) == PolicyCard(status, None)

    made = fund.attach_to_clinic(message_id("attach"), AttachmentRequest(insured, "770102", TODAY))

    assert fund.policy_card(message_id("card"), insured) == PolicyCard(status, made)


def test_attachment_operations_on_an_unknown_enp_are_not_found(fund: FundAdapter) -> None:
    with pytest.raises(NotFound):
        fund.policy_card(message_id("card"), UNKNOWN_ENP)
    with pytest.raises(NotFound):
        fund.attach_to_clinic(message_id("attach"), AttachmentRequest(UNKNOWN_ENP, "770101", TODAY))


# --- visits -------------------------------------------------------------------------------------------------


def test_the_visits_of_a_period_are_read_with_their_amounts(fund: FundAdapter) -> None:
    visits = fund.visits(message_id("visits"), MOROZOV_ENP, Period(date(2025, 1, 1), date(2025, 12, 31)))

    assert [visit.date for visit in visits] == [date(2025, 1, 20), date(2025, 9, 3)]
    first = visits[0]
    assert (first.clinic_code, first.care_kind, first.service) == (
        "770101",
        CareKind.OUTPATIENT,
        "Приём врача-терапевта участкового",
    )
    assert first.amount_paid == Decimal("1250.00")
    assert first.diagnosis_group == "J00-J06 Острые респираторные инфекции верхних дыхательных путей"
    assert first.clinic_name == "ГБУЗ «Городская поликлиника № 301»"


def test_all_visits_are_read_without_a_period(fund: FundAdapter) -> None:
    visits = fund.visits(message_id("visits"), MOROZOV_ENP, Period())

    assert len(visits) == 4
    assert visits[-1].care_kind is CareKind.DAY_HOSPITAL
    assert visits[0].diagnosis_group is None


def test_a_period_ending_before_it_starts_is_refused_by_the_fund(fund: FundAdapter) -> None:
    with pytest.raises(BackendRefusal) as refused:
        fund.visits(message_id("visits"), MOROZOV_ENP, Period(date(2025, 2, 1), date(2025, 1, 1)))

    assert refused.value.code == "VISITS_PERIOD_INVALID"


def test_the_visits_of_an_unknown_enp_are_not_found(fund: FundAdapter) -> None:
    with pytest.raises(NotFound):
        fund.visits(message_id("visits"), UNKNOWN_ENP, Period())


def test_visits_never_reach_the_message_log_in_clear(fund: FundAdapter, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="epolicy.soap"):
        visits = fund.visits(message_id("visits"), MOROZOV_ENP, Period())

    assert visits
    assert "GetVisits" in caplog.text
    for visit in visits:
        assert visit.service not in caplog.text
        assert visit.diagnosis_group is None or visit.diagnosis_group not in caplog.text


# --- faults -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["GetVisits", "ListClinics", "AttachToClinic", "GetPolicyCard"])
def test_a_technical_fault_of_a_version_2_operation_is_an_outage(faulty: RunningMocks, operation: str) -> None:
    inject(faulty, target="fund", operation=operation, fault="technical_fault", count=1)
    fund = FundAdapter(faulty.fund_url, timeout=5, signing=signing_for(faulty.fund_url))
    calls = {
        "GetVisits": lambda: fund.visits(message_id("visits"), MOROZOV_ENP, Period()),
        "ListClinics": lambda: fund.list_clinics(message_id("clinics"), "77"),
        "AttachToClinic": lambda: fund.attach_to_clinic(
            message_id("attach"), AttachmentRequest(MOROZOV_ENP, "770102", TODAY)
        ),
        "GetPolicyCard": lambda: fund.policy_card(message_id("card"), MOROZOV_ENP),
    }

    with pytest.raises(BackendUnavailable) as failed:
        calls[operation]()

    assert (failed.value.source, failed.value.operation) == (Source.FUND, operation)
    assert failed.value.retry_after == 5.0
    fund.close()


def test_a_malformed_answer_to_a_version_2_operation_is_an_outage(faulty: RunningMocks) -> None:
    inject(faulty, target="fund", operation="ListClinics", fault="malformed_xml", count=1)
    fund = FundAdapter(faulty.fund_url, timeout=5, signing=signing_for(faulty.fund_url))

    with pytest.raises(BackendUnavailable):
        fund.list_clinics(message_id("clinics"), "77")

    assert fund.list_clinics(message_id("clinics"), "77"), "the next call goes through"
    fund.close()
