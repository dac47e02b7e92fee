"""The worker's steps with fakes for the fund, the insurers and the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Step
from gateway.domain.model import (
    ApplicationStatus,
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    Holder,
    InsurerState,
    NewPolicyRequest,
    Person,
    PersonChanges,
    Policy,
    PolicyForm,
    PolicyStatus,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Sex,
    Source,
)
from gateway.domain.reference import load_reference
from gateway.domain.registry import Registration, RegistrationResult
from gateway.ports import BackendRefusal
from gateway.usecases.errors import InputRejected
from gateway.usecases.policies import ask_fund
from gateway.usecases.processing import Processor, RetryPolicy
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeStore, unavailable
from tests.support.persons import ANNA
from tests.support.processing import NOW, Clock, new_request, submit

Status = ApplicationStatus


@pytest.fixture
def world() -> tuple[Processor, FakeStore, FakeFund, FakeInsurers]:
    store, fund = FakeStore(), FakeFund()
    insurers = FakeInsurers(
        {
            "77001": FakeInsurer("77001"),
            "77002": FakeInsurer("77002"),
            "50001": FakeInsurer("50001", ("electronic", "paper")),
        }
    )
    processor = Processor(store, fund, insurers, Catalogue.load(), Clock(), RetryPolicy(1, 60))
    return processor, store, fund, insurers


def run_until_done(processor: Processor, store: FakeStore, app_id: str, limit: int = 10) -> Application:
    for _ in range(limit):
        application = processor.run(app_id)
        assert application is not None
        if application.status.is_final:
            return application
    raise AssertionError("the application did not finish")


def statuses(application: Application) -> list[str]:
    return [entry.status.value for entry in application.history if entry.note is None]


def test_a_new_person_is_verified_issued_and_registered(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, insurers = world
    submit(store, new_request())
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.ISSUED
    assert statuses(done) == ["accepted", "verifying", "issuing", "issued"]
    assert done.policy is not None
    assert done.policy.insurer_code == "77001"
    assert fund.calls.count("register_policy") == 1
    assert len(insurers.ports["77001"].issued) == 1
    assert "app_1" not in store.outbox, "a finished application leaves the outbox"


def test_an_outage_is_retried_never_rejected_and_noted_in_history(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"), count=2)
    submit(store, new_request())
    waiting = processor.run("app_1", attempts=0)
    assert waiting is not None
    assert waiting.status is Status.VERIFYING
    assert store.outbox["app_1"].attempts == 1
    assert store.outbox["app_1"].available_at > NOW
    assert waiting.history[-1].note is not None
    assert "повтор № 1" in waiting.history[-1].note
    processor.run("app_1", attempts=1)
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.ISSUED
    assert sum(1 for entry in done.history if entry.note) == 2


def test_a_business_refusal_becomes_a_catalogue_reason_with_its_source(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, _, _ = world
    submit(store, new_request(insurer_code="50001", region_code="50", policy_form=PolicyForm.PLASTIC))
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.REJECTED
    (reason,) = done.rejection
    assert (reason.code, reason.source, reason.field) == ("POLICY_FORM_NOT_ISSUED", Source.INSURER, "policy_form")
    assert reason.message == Catalogue.load().entry("POLICY_FORM_NOT_ISSUED").message


def test_an_unknown_back_end_code_keeps_the_back_ends_words(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    fund.fail("register_policy", BackendRefusal(Source.FUND, "XYZ_042", "Особый отказ", None))
    submit(store, new_request())
    done = run_until_done(processor, store, "app_1")
    (reason,) = done.rejection
    assert reason.code == "BACKEND_REJECTED"
    assert dict(reason.details) == {"backend_code": "XYZ_042", "backend_message": "Особый отказ"}


def test_a_step_repeated_after_a_crash_registers_once(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    submit(store, new_request())
    save = store.save

    def die_before_storing_the_registration(application: Application, next_attempt_at: datetime | None) -> None:
        store.save = save  # type: ignore[method-assign]
        raise RuntimeError("the worker died")

    # The worker registers, then dies before storing the result: the register step runs again.
    store.save = die_before_storing_the_registration  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        processor.run("app_1")
    assert store.get("app_1").step is Step.REGISTER  # type: ignore[union-attr]
    assert len(fund.registrations) == 1
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.ISSUED
    assert len(fund.registrations) == 1
    assert fund.calls.count("register_policy") == 2


def test_one_run_carries_an_application_through_every_step_it_can_take_now(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, _, _ = world
    submit(store, new_request())
    done = processor.run("app_1")
    assert done is not None
    assert done.status is Status.ISSUED
    assert statuses(done) == ["accepted", "verifying", "issuing", "issued"]
    assert store.applications["app_1"].version == 3, "stored after each of its three steps"
    assert "app_1" not in store.outbox


def test_a_step_made_after_failures_starts_their_count_again(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, insurers = world
    fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"), count=2)
    insurers.ports["77001"].fail("issue_policy", unavailable(Source.INSURER, "IssuePolicy"))
    submit(store, new_request())
    processor.run("app_1", attempts=0)
    processor.run("app_1", attempts=1)
    assert store.outbox["app_1"].attempts == 2
    waiting = processor.run("app_1", attempts=2)  # verified at last, then the insurer is out
    assert waiting is not None
    assert (waiting.status, waiting.step) == (Status.ISSUING, Step.ISSUE)
    assert store.outbox["app_1"].attempts == 1, "the insurer's first failure, not the fund's third"


def test_choosing_the_insurer_one_already_has_is_refused(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    holder = Holder(ANNA.last_name, ANNA.first_name, ANNA.birth_date, ANNA.sex)
    fund.persons["7754900882000015"] = (
        ANNA,
        Policy("7754900882000015", PolicyStatus.ACTIVE, "77001", "77", "electronic", date(2020, 1, 1), holder),
    )
    submit(store, new_request())
    done = run_until_done(processor, store, "app_1")
    (reason,) = done.rejection
    assert (reason.code, reason.source) == ("ALREADY_INSURED_SAME_INSURER", Source.FUND)


def test_a_name_change_keeps_the_enp(world: tuple[Processor, FakeStore, FakeFund, FakeInsurers]) -> None:
    processor, store, fund, _ = world
    submit(store, new_request(), "app_1")
    first = run_until_done(processor, store, "app_1")
    assert first.policy is not None
    enp = first.policy.enp
    change = ReplacementRequest(
        enp, ReplacementReason.PERSONAL_DATA_CHANGE, PolicyForm.ELECTRONIC, PersonChanges(last_name="Петрова")
    )
    submit(store, change, "app_2")
    second = run_until_done(processor, store, "app_2")
    assert second.status is Status.ISSUED
    assert second.policy is not None
    assert second.policy.enp == enp
    assert fund.persons[enp][0].last_name == "Петрова"


def test_retry_delays_grow_to_a_ceiling_with_jitter() -> None:
    policy = RetryPolicy(base_seconds=1, max_seconds=60)
    assert policy.delay(0, lambda: 0.0) == 0.5
    assert policy.delay(3, lambda: 1.0) == 8
    assert policy.delay(20, lambda: 1.0) == 60
    assert policy.delay(20, lambda: 0.0) == 30


def newborn_request(insurer: str, mother: Person = ANNA) -> NewPolicyRequest:
    born = NOW.date() - timedelta(days=10)
    child = Person(
        last_name="Иванов",
        first_name="Лев",
        birth_date=born,
        sex=Sex.MALE,
        citizenship="RUS",
        identity_document=Document(DocumentType.BIRTH_CERTIFICATE_RF, "654321", born + timedelta(days=3), "IV-МЮ"),
    )
    parent = Representative(
        last_name=mother.last_name,
        first_name=mother.first_name,
        birth_date=mother.birth_date,
        identity_document=mother.identity_document,
        authority=Authority(AuthorityType.PARENT),
        snils=mother.snils,
    )
    return NewPolicyRequest(Relation.CHILD, child, "77", insurer, PolicyForm.ELECTRONIC, representative=parent)


def test_a_newborn_goes_to_the_mothers_insurer_in_the_first_30_days(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    holder = Holder(ANNA.last_name, ANNA.first_name, ANNA.birth_date, ANNA.sex)
    mothers = Policy("7754900882000015", PolicyStatus.ACTIVE, "77002", "77", "electronic", date(2020, 1, 1), holder)
    fund.persons["7754900882000015"] = (ANNA, mothers)
    submit(store, newborn_request("77001"), "app_1")
    refused = run_until_done(processor, store, "app_1")
    (reason,) = refused.rejection
    assert (reason.code, reason.field) == ("NEWBORN_MOTHER_INSURER", "insurer_code")
    details = dict(reason.details)
    assert details["mothers_insurer"] == "77002"
    assert details["allowed_from"] == (NOW.date() - timedelta(days=7) + timedelta(days=31)).isoformat()
    submit(store, newborn_request("77002"), "app_2")
    assert run_until_done(processor, store, "app_2").status is Status.ISSUED


def test_a_father_or_an_uninsured_mother_sets_no_insurer_for_the_newborn(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    father = replace(ANNA, first_name="Пётр", sex=Sex.MALE, snils="01024236877")
    holder = Holder(father.last_name, father.first_name, father.birth_date, father.sex)
    fund.persons["7704900832000019"] = (
        father,
        Policy("7704900832000019", PolicyStatus.ACTIVE, "77002", "77", "electronic", date(2020, 1, 1), holder),
    )
    submit(store, newborn_request("77001", mother=father), "app_1")
    assert run_until_done(processor, store, "app_1").status is Status.ISSUED


def test_leaving_an_insurer_whose_contract_ended_is_not_a_change_by_wish(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    processor.reference = load_reference()  # 77003's admission ended on 2024-12-31
    holder = Holder(ANNA.last_name, ANNA.first_name, ANNA.birth_date, ANNA.sex)
    enp = "7754900882000015"
    fund.persons[enp] = (ANNA, Policy(enp, PolicyStatus.ACTIVE, "77003", "77", "paper", date(2015, 1, 1), holder))
    sent: list[Registration] = []
    register = fund.register_policy

    def recording(message_id: str, registration: Registration) -> RegistrationResult:
        sent.append(registration)
        return register(message_id, registration)

    fund.register_policy = recording  # type: ignore[method-assign]
    change = ReplacementRequest(enp, ReplacementReason.INSURER_CHANGE, PolicyForm.ELECTRONIC, insurer_code="77002")
    submit(store, change)
    assert run_until_done(processor, store, "app_1").status is Status.ISSUED
    assert [(r.reason.value, r.insurer_code) for r in sent] == [("insurer_contract_ended", "77002")]


def test_a_foreigners_policy_ends_with_the_stay_document_whatever_the_fund_answered(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, _, _ = world
    permit_ends = date(NOW.year, 9, 30)
    foreigner = replace(
        ANNA,
        citizenship="UZB",
        snils=None,
        inn=None,
        identity_document=Document(DocumentType.FOREIGN_PASSPORT, "AB7781234", date(2020, 1, 10), series="FA"),
        residence_document=Document(
            DocumentType.TEMPORARY_RESIDENCE_PERMIT, "0456789", date(2025, 3, 15), expiry_date=permit_ends
        ),
    )
    submit(store, new_request(person=foreigner))
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.ISSUED, done.rejection
    assert done.policy is not None
    assert done.policy.valid_to == permit_ends, "the fake fund registered it with no end at all"


def test_an_application_the_insurer_answers_as_rejected_is_rejected_and_never_registered(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, insurers = world
    insurers.ports["77001"].answers = InsurerState.REJECTED
    submit(store, new_request())
    done = run_until_done(processor, store, "app_1")
    assert done.status is Status.REJECTED
    (reason,) = done.rejection
    assert (reason.code, reason.source) == ("BACKEND_REJECTED", Source.INSURER)
    assert dict(reason.details)["backend_code"] == "APPLICATION_REJECTED"
    assert "register_policy" not in fund.calls


def test_a_refusal_reads_the_same_in_the_worker_and_in_the_apis_reads(
    world: tuple[Processor, FakeStore, FakeFund, FakeInsurers],
) -> None:
    processor, store, fund, _ = world
    # The fund names no field: both fall back to the one the catalogue gives the code.
    refusal = BackendRefusal(Source.FUND, "INSURER_CHANGE_LIMIT", "Раз в год", None, date(2027, 1, 1))
    fund.fail("register_policy", refusal)
    submit(store, new_request())
    done = run_until_done(processor, store, "app_1")
    (in_the_worker,) = done.rejection

    with pytest.raises(InputRejected) as read:
        ask_fund(processor.catalogue, "7754900882000015", lambda: (_ for _ in ()).throw(refusal))

    assert read.value.reasons == (in_the_worker,)
    assert in_the_worker.field == processor.catalogue.entry("INSURER_CHANGE_LIMIT").field is not None
    assert dict(in_the_worker.details)["allowed_from"] == "2027-01-01"
