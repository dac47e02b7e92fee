"""No application without an end: a step that fails the same way on every attempt ends the application, refused
or stalled, and counted; whatever else keeps one unfinished shows on /metrics and in `epolicy idle`.

The applications are put straight into the store, as rows stored before the API refused their texts would be, and
carried by a real worker; texts go to the real fund adapter, whose SOAP message cannot be built for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from adapters import FundAdapter
from gateway.app import create_app
from gateway.bootstrap import Services, build_services
from gateway.cli import main
from gateway.config import Settings
from gateway.domain.applications import Application, Owner
from gateway.domain.model import ApplicationStatus, NewPolicyRequest, Person
from gateway.domain.registry import Verification
from gateway.ports import ApplicationStore
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.usecases.processing import STALLED_NOTE
from gateway.worker import Worker
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers, FakeKzFund, FakeStore
from tests.support.processing import NOW
from tests.support.storage import new_policy_request, passport, person

FUND_URL = "http://fund.test/ws"


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["fake", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApplicationStore]:
    """The fake the unit tests use, and the SQL store on SQLite: old rows are rows of a real database."""
    if request.param == "fake":
        yield FakeStore()
        return
    url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    upgrade(url)
    engine = make_engine(url, pool_size=2)
    yield SqlApplicationStore(engine)
    engine.dispose()


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    """The fund's address on the wire: any request that reached it would be recorded."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, FUND_URL, body=b"", status=500)
        yield mock


def services(store: ApplicationStore, fund: object, clock: Clock) -> Services:
    insurers = FakeInsurers({"77001": FakeInsurer("77001")})
    built = build_services(Settings(), store=store, fund=fund, insurers=insurers, kz_fund=FakeKzFund())
    built.clock = clock
    return built


def put(store: ApplicationStore, request: NewPolicyRequest, application_id: str = "app_1") -> None:
    """An application as an older gateway stored it, without today's checks."""
    store.add(Application.accept(application_id, Owner("user-1", "11223344595"), request, NOW))


def stored_person(application: Application | None) -> Person:
    assert application is not None and isinstance(application.request, NewPolicyRequest)
    return application.request.person


def unprocessable(built: Services, outcome: str) -> float:
    value = built.metrics.registry.get_sample_value("epolicy_applications_unprocessable_total", {"outcome": outcome})
    return value or 0.0


def stored(store: ApplicationStore, application_id: str = "app_1") -> Application:
    found = store.get(application_id)
    assert found is not None
    return found


# --- a step that fails the same way on every attempt -----------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (new_policy_request(person=person(birth_place="г. Мос\x00ква")), "person.birth_place"),
        (new_policy_request(person=person(identity_document=passport(issuer="ОВД\x07"))),
         "person.identity_document.issuer"),
        (new_policy_request(person=person(last_name="Ива\x1bнова")), "person.last_name"),
        (new_policy_request(person=person(birth_place="г. Москва\ufffe")), "person.birth_place"),
    ],
)  # fmt: skip
def test_texts_no_soap_message_can_carry_end_the_application_refused_on_their_field(
    store: ApplicationStore, wire: responses.RequestsMock, request_: NewPolicyRequest, field: str
) -> None:
    fund = FundAdapter(FUND_URL, timeout=5, signing=None)
    clock = Clock()
    built = services(store, fund, clock)
    put(store, request_)
    worker = Worker(built.worker_context, "w1")

    assert worker.run_once() == 1
    clock.now += timedelta(hours=1)
    assert worker.run_once() == 0, "nothing is left to retry"

    application = stored(store)
    assert application.status is ApplicationStatus.REJECTED
    assert [(reason.code, reason.field) for reason in application.rejection] == [("CHARACTERS_NOT_ALLOWED", field)]
    assert len(wire.calls) == 0, "nothing reached the fund"
    assert unprocessable(built, "refused") == 1
    assert store.without_progress(clock() + timedelta(days=1)) == []
    fund.close()


class Broken(FakeFund):
    """A fund port whose check fails as a bug would, on every attempt."""

    def verify_person(self, message_id: str, person: Person, enp: str | None = None) -> Verification:
        self.calls.append("verify_person")
        raise TypeError(f"cannot send {person.last_name}")  # a message quoting the data, as some do


def test_any_other_failure_of_a_step_stalls_the_application_at_once_for_an_operator(store: ApplicationStore) -> None:
    fund, clock = Broken(), Clock()
    built = services(store, fund, clock)
    put(store, new_policy_request())
    worker = Worker(built.worker_context, "w1")

    worker.run_once()
    clock.now += timedelta(days=1)
    worker.run_once()

    assert fund.calls.count("verify_person") == 1, "not retried: it would fail the same way"
    application = stored(store)
    assert application.status is ApplicationStatus.VERIFYING
    assert application.stalled
    assert (application.history[-1].note or "").startswith(STALLED_NOTE)
    (parked,) = store.stalled()
    assert (parked.application_id, parked.last_error) == ("app_1", "gateway:verify:TypeError")
    assert unprocessable(built, "stalled") == 1
    assert unprocessable(built, "refused") == 0


def test_a_stalled_failure_names_neither_the_data_nor_the_message_in_the_log(
    store: ApplicationStore, caplog: pytest.LogCaptureFixture
) -> None:
    built = services(store, Broken(), Clock())
    put(store, new_policy_request())
    Worker(built.worker_context, "w1").run_once()
    assert "app_1 stalled: TypeError at step verify" in caplog.text
    assert "verify_person" in caplog.text, "the frames are logged"
    assert "Иванова" not in caplog.text, "an exception's message may quote the data it failed on"


def test_a_failure_outside_a_step_is_logged_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    # A database's error quotes the statement's parameters, which hold the application's personal data.
    store = FakeStore()
    built = services(store, FakeFund(), Clock())
    put(store, new_policy_request())

    read = store.get

    def unreadable(application_id: str) -> Application | None:
        person = stored_person(read(application_id))
        raise RuntimeError(f"(sqlite3.DataError) [parameters: ({person.last_name!r}, {person.snils!r})]")

    store.get = unreadable  # type: ignore[method-assign]
    Worker(built.worker_context, "w1").run_once()
    assert "RuntimeError carrying app_1" in caplog.text
    assert "Иванова" not in caplog.text and "11223344595" not in caplog.text


# --- applications without progress ---------------------------------------------------------------------------


def scrape(store: FakeStore, clock: Callable[[], datetime], **config: object) -> str:
    app = create_app({"TESTING": True, "WORKER_THREADS": 0, **config}, store=store, fund=FakeFund(),
                     insurers=FakeInsurers({}), kz_fund=FakeKzFund())  # fmt: skip
    app.extensions["epolicy"].clock = clock
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_unfinished_applications_unchanged_for_longer_than_the_setting_are_counted_by_status() -> None:
    store = FakeStore()
    put(store, new_policy_request(), "app_1")
    put(store, new_policy_request(), "app_2")
    store.outbox.pop("app_2")  # lost by whatever means: no worker will ever claim it
    verifying = dataclasses.replace(stored(store, "app_2"), status=ApplicationStatus.VERIFYING)
    store.applications["app_2"] = verifying

    early = scrape(store, lambda: NOW + timedelta(minutes=29))
    late = scrape(store, lambda: NOW + timedelta(minutes=31))
    sooner = scrape(store, lambda: NOW + timedelta(minutes=6), IDLE_AFTER_MINUTES=5)

    assert 'epolicy_applications_idle{status="accepted"} 0.0' in early
    assert 'epolicy_applications_idle{status="accepted"} 1.0' in late
    assert 'epolicy_applications_idle{status="verifying"} 1.0' in late
    assert 'epolicy_applications_idle{status="issuing"} 0.0' in late
    assert 'epolicy_applications_idle{status="accepted"} 1.0' in sooner


def test_the_operator_lists_the_applications_without_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'operator.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("EPOLICY_DATABASE_URL", url)
    engine = make_engine(url, pool_size=1)
    store = SqlApplicationStore(engine)
    now = datetime.now(NOW.tzinfo)
    for number, minutes in ((1, 90), (2, 45), (3, 1)):
        request = new_policy_request()
        store.add(Application.accept(f"app_{number}", Owner("user-1", None), request, now - timedelta(minutes=minutes)))
    engine.dispose()

    default = CliRunner().invoke(main, ["idle"])
    wider = CliRunner().invoke(main, ["idle", "--minutes", "60"])

    assert default.exit_code == 0, default.output
    lines = [line.split("\t") for line in default.stdout.splitlines()]
    assert [line[:2] for line in lines] == [["app_1", "accepted"], ["app_2", "accepted"]]
    assert [int(line[3]) for line in lines] == [90, 45]
    assert "2 unchanged for more than 30 minutes" in default.stderr
    assert [line.split("\t")[0] for line in wider.stdout.splitlines()] == ["app_1"]
    assert "Иванова" not in default.output and "11223344595" not in default.output, "ids only, no personal data"
