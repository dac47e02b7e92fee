"""The circuit breaker of the API's reads, with a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from gateway.breaker import BreakerState, CircuitBreaker
from gateway.domain.model import Source
from gateway.guard import guarded
from gateway.ports import BackendRefusal, BackendUnavailable, FundPort, NotFound
from tests.support.fakes import FakeFund, unavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def down() -> None:
    raise unavailable(Source.FUND, "InsuranceStatus")


def up() -> str:
    return "answer"


def trip(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(BackendUnavailable):
            breaker.call(Source.FUND, "InsuranceStatus", down)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker("fund", failures=3, cooldown=30, clock=clock)


def test_a_breaker_stays_closed_below_the_number_of_failures(breaker: CircuitBreaker) -> None:
    trip(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.call(Source.FUND, "InsuranceStatus", up) == "answer"


def test_a_success_in_between_starts_the_count_again(breaker: CircuitBreaker) -> None:
    trip(breaker, 2)
    breaker.call(Source.FUND, "InsuranceStatus", up)
    trip(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


def test_an_open_breaker_fails_fast_without_calling_and_says_when_to_come_back(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    trip(breaker, 3)
    assert breaker.state is BreakerState.OPEN
    called: list[str] = []
    clock.now += 10
    with pytest.raises(BackendUnavailable) as raised:
        breaker.call(Source.FUND, "InsuranceStatus", lambda: called.append("called"))
    assert called == []
    assert raised.value.retry_after == 20
    assert "circuit open" in raised.value.reason


def test_after_the_cool_down_one_trial_goes_through_and_a_success_closes(breaker: CircuitBreaker, clock: Clock) -> None:
    trip(breaker, 3)
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.call(Source.FUND, "InsuranceStatus", up) == "answer"
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_opens_the_breaker_for_another_cool_down(breaker: CircuitBreaker, clock: Clock) -> None:
    trip(breaker, 3)
    clock.now += 30
    trip(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after() == 30


def test_while_the_trial_is_under_way_the_others_fail_fast(breaker: CircuitBreaker, clock: Clock) -> None:
    trip(breaker, 3)
    clock.now += 31
    entered, release = threading.Event(), threading.Event()
    others: list[BaseException] = []

    def slow_trial() -> str:
        entered.set()
        release.wait(5)
        return "answer"

    trial = threading.Thread(target=breaker.call, args=(Source.FUND, "InsuranceStatus", slow_trial))
    trial.start()
    assert entered.wait(5)
    try:
        breaker.call(Source.FUND, "InsuranceStatus", up)
    except BackendUnavailable as error:
        others.append(error)
    release.set()
    trial.join(5)
    assert len(others) == 1
    assert breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize(
    "answer",
    [NotFound("7700000000000000"), BackendRefusal(Source.FUND, "ENP_NOT_FOUND", "нет такого ЕНП")],
    ids=["not found", "business refusal"],
)
def test_a_refusal_or_not_found_is_the_back_end_answering_not_a_failure(
    breaker: CircuitBreaker, answer: Exception
) -> None:
    def refuse() -> None:
        raise answer

    for _ in range(5):
        trip(breaker, 2)
        with pytest.raises(type(answer)):
            breaker.call(Source.FUND, "InsuranceStatus", refuse)
    assert breaker.state is BreakerState.CLOSED


def test_the_guarded_fund_counts_outages_of_every_read_together(clock: Clock) -> None:
    fund = FakeFund()
    breaker = CircuitBreaker("fund", failures=2, cooldown=30, clock=clock)
    guarded_fund = guarded(fund, FundPort, breaker.guard(Source.FUND))
    fund.fail("list_insurers", unavailable(Source.FUND, "ListInsurers"))
    fund.fail("list_clinics", unavailable(Source.FUND, "ListClinics"))
    with pytest.raises(BackendUnavailable):
        guarded_fund.list_insurers("rd_1", "77")
    with pytest.raises(BackendUnavailable):
        guarded_fund.list_clinics("rd_2", "77")
    calls = list(fund.calls)
    with pytest.raises(BackendUnavailable):
        guarded_fund.list_insurers("rd_3", "77")
    assert fund.calls == calls, "an open breaker does not reach the fund"
    clock.now += 30
    assert [insurer.code for insurer in guarded_fund.list_insurers("rd_4", "77")] == ["77001", "77002"]
