"""The rules of reading visits and attaching to a clinic that the gateway applies itself, and their use cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.catalogue import Catalogue
from gateway.domain.applications import Owner
from gateway.domain.clinics import AttachmentReason, CareKind, Period, Visit, period_violations, total_paid
from gateway.domain.model import Source, Violation
from gateway.ports import BackendRefusal
from gateway.usecases import clinics
from gateway.usecases.errors import InputRejected, NotVisible
from gateway.usecases.policies import PolicyContext, Reader, policy_card
from tests.support.fakes import FakeFund, FakeStore

ENP = "7754900882000015"


def visit(amount: str) -> Visit:
    return Visit("V-1", date(2025, 1, 20), "770101", "Поликлиника", CareKind.OUTPATIENT, "Приём", Decimal(amount))


@pytest.fixture
def context() -> PolicyContext:
    return PolicyContext(FakeStore(), FakeFund(), Catalogue.load(), lambda: "rd_test")


SERVICE = Reader(Owner(sub="clinic-demo", snils=None), may_read_any=True)


# --- rules --------------------------------------------------------------------------------------------------


def test_a_period_that_ends_before_it_starts_is_refused_on_its_start() -> None:
    assert period_violations(Period(date(2025, 2, 1), date(2025, 1, 31))) == [
        Violation("VISITS_PERIOD_INVALID", "from")
    ]


@pytest.mark.parametrize(
    "period",
    [Period(), Period(date(2025, 1, 1)), Period(end=date(2025, 1, 1)), Period(date(2025, 1, 1), date(2025, 1, 1))],
)
def test_an_open_or_one_day_period_is_fine(period: Period) -> None:
    assert period_violations(period) == []


def test_the_total_paid_keeps_kopecks() -> None:
    assert total_paid([visit("1250.00"), visit("980.50"), visit("0.05")]) == Decimal("2230.55")
    assert str(total_paid([])) == "0.00"


# --- use cases ----------------------------------------------------------------------------------------------


def test_a_refusal_of_the_fund_names_the_catalogues_field_and_when_it_becomes_possible(
    context: PolicyContext,
) -> None:
    fund = context.fund
    assert isinstance(fund, FakeFund)
    fund.fail(
        "attach_to_clinic", BackendRefusal(Source.FUND, "CLINIC_CHANGE_LIMIT", "раз в год", None, date(2027, 3, 10))
    )

    with pytest.raises(InputRejected) as rejected:
        clinics.attach(
            ENP, "770102", AttachmentReason.CHOICE, SERVICE, context, message_id="at_1", today=date(2026, 6, 1)
        )

    [reason] = rejected.value.reasons
    assert (reason.code, reason.source, reason.field) == ("CLINIC_CHANGE_LIMIT", Source.FUND, "reason")
    assert dict(reason.details) == {"allowed_from": "2027-03-10"}


def test_a_refusal_the_catalogue_lacks_keeps_the_funds_own_code_and_text(context: PolicyContext) -> None:
    fund = context.fund
    assert isinstance(fund, FakeFund)
    fund.fail("attach_to_clinic", BackendRefusal(Source.FUND, "CLINIC_CLOSED", "Организация закрыта"))

    with pytest.raises(InputRejected) as rejected:
        clinics.attach(
            ENP, "770102", AttachmentReason.CHOICE, SERVICE, context, message_id="at_2", today=date(2026, 6, 1)
        )

    [reason] = rejected.value.reasons
    assert (reason.code, reason.field) == ("BACKEND_REJECTED", None)
    assert dict(reason.details) == {"backend_code": "CLINIC_CLOSED", "backend_message": "Организация закрыта"}


def test_an_enp_the_fund_does_not_know_is_not_visible(context: PolicyContext) -> None:
    with pytest.raises(NotVisible):
        clinics.policy_history(ENP, SERVICE, context)
    with pytest.raises(NotVisible):
        policy_card(ENP, SERVICE, context)


def test_a_bad_period_is_refused_before_the_fund_is_asked(context: PolicyContext) -> None:
    with pytest.raises(InputRejected) as rejected:
        clinics.visits(ENP, Period(date(2025, 2, 1), date(2025, 1, 1)), SERVICE, context)

    assert rejected.value.reasons[0].code == "VISITS_PERIOD_INVALID"
    assert isinstance(context.fund, FakeFund) and context.fund.calls == []
