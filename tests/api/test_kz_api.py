"""`/api/v1/kz`: insurance status by ИИН and the packages, through the Flask test client with a fake fund."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.domain.model import Source
from gateway.kz.domain import InsurancePeriod, InsuranceStatus, PackageCode
from gateway.ports import BackendRefusal, BackendUnavailable
from mocks.oauth.state import EXTENSION_KEY
from tests.support.fakes import FakeFund, FakeInsurers, FakeKzFund, FakeStore
from tests.support.gateway import Gateway
from tests.support.services import RunningMocks

# The tests take tokens from the mock OAuth server over HTTP and the Kazakh fund's mock.
pytestmark = pytest.mark.network

INSURED = "791028302728"  # a man born 1979-10-28
NOT_INSURED = "850314401236"  # a woman born 1985-03-14
UNKNOWN = "900517300019"
STATUS = "/api/v1/kz/insurance-status/"


@dataclass
class KzGateway(Gateway):
    kz: FakeKzFund = field(default_factory=FakeKzFund)

    def citizen(self, iin: str | None, scope: str = "epolicy.read") -> dict[str, str]:
        """A citizen's token with an `iin` claim, as a Kazakh identity provider would issue it.

        The mock OAuth server's QA endpoint takes no `iin`, so the token is signed here with the mock's own key.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": f"{self.mocks.base_url}/oauth",
            "aud": "epolicy-gateway",
            "sub": "kz-citizen-1",
            "client_id": "epolicy-portal",
            "iat": now,
            "exp": now + 600,
            "jti": secrets.token_urlsafe(8),
            "scope": scope,
        }
        if iin is not None:
            claims["iin"] = iin
        key = self.mocks.server.app.extensions[EXTENSION_KEY].key
        return {"Authorization": f"Bearer {key.sign({'typ': 'at+jwt'}, claims)}"}

    def clinic(self) -> dict[str, str]:
        return self.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")


@pytest.fixture
def kz(mocks_server: RunningMocks) -> KzGateway:
    fund = FakeKzFund()
    fund.answers[INSURED] = InsuranceStatus(
        INSURED, date(2026, 6, 15), True, PackageCode.GOBMP_OSMS, InsurancePeriod(date(2020, 1, 1))
    )
    fund.answers[NOT_INSURED] = InsuranceStatus(NOT_INSURED, date(2026, 6, 15), False, PackageCode.GOBMP)
    store = FakeStore()
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
        store=store,
        fund=FakeFund(),
        insurers=FakeInsurers({}),
        kz_fund=fund,
    )
    return KzGateway(app, app.test_client(), store, FakeFund(), mocks_server, fund)


def get(client: FlaskClient, iin: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    answer = client.get(STATUS + iin, headers=headers)
    return answer.status_code, answer.get_json()


# --- status for a service client -----------------------------------------------------------------------------


def test_a_clinic_reads_an_insured_persons_status_with_the_package_of_the_insured(kz: KzGateway) -> None:
    status, body = get(kz.client, INSURED, kz.clinic())

    assert status == 200
    assert body == {
        "iin": INSURED,
        "on_date": "2026-06-15",
        "insured": True,
        "insured_from": "2020-01-01",
        "insured_to": None,
        "package": {"code": "gobmp_osms", "name": "ГОБМП + ОСМС", "insured": True, "parts": ["gobmp", "osms"]},
        "holder": {"birth_date": "1979-10-28", "sex": "male"},
    }


def test_a_person_not_insured_gets_gobmp_only(kz: KzGateway) -> None:
    status, body = get(kz.client, NOT_INSURED, kz.clinic())

    assert status == 200
    assert (body["insured"], body["insured_from"], body["insured_to"]) == (False, None, None)
    assert body["package"] == {"code": "gobmp", "name": "ГОБМП", "insured": False, "parts": ["gobmp"]}
    assert body["holder"] == {"birth_date": "1985-03-14", "sex": "female"}


def test_the_last_day_covered_by_contributions_is_shown_when_the_fund_knows_it(kz: KzGateway) -> None:
    kz.kz.answers[INSURED] = InsuranceStatus(
        INSURED, date(2023, 1, 15), True, PackageCode.GOBMP_OSMS, InsurancePeriod(date(2020, 1, 1), date(2023, 6, 30))
    )

    _, body = get(kz.client, INSURED, kz.clinic())

    assert (body["insured_from"], body["insured_to"]) == ("2020-01-01", "2023-06-30")


def test_each_read_asks_the_fund_with_a_read_message_id(kz: KzGateway) -> None:
    get(kz.client, INSURED, kz.clinic())

    [(message_id, iin)] = kz.kz.calls
    assert message_id.startswith("rd_")
    assert iin == INSURED


@pytest.mark.parametrize("typed", ["791028 302728", "７９１０２８３０２７２８"])
def test_an_iin_typed_with_spaces_or_full_width_digits_reaches_the_fund_as_12_digits(kz: KzGateway, typed: str) -> None:
    status, body = get(kz.client, typed, kz.clinic())

    assert (status, body["iin"]) == (200, INSURED)
    assert [iin for _, iin in kz.kz.calls] == [INSURED]


def test_an_iin_of_a_child_born_today_in_almaty_is_not_in_the_future_at_20_utc(mocks_server: RunningMocks) -> None:
    born_today = "260615600015"  # a girl born on 15 June 2026; at 20:00 UTC on the 14th it is the 15th in Almaty
    fund = FakeKzFund()
    fund.answers[born_today] = InsuranceStatus(born_today, date(2026, 6, 15), False, PackageCode.GOBMP)
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "OAUTH_ISSUER": f"{mocks_server.base_url}/oauth"},
        store=FakeStore(),
        fund=FakeFund(),
        insurers=FakeInsurers({}),
        kz_fund=fund,
        clock=lambda: datetime(2026, 6, 14, 20, 0, tzinfo=UTC),
    )
    gateway = KzGateway(app, app.test_client(), FakeStore(), FakeFund(), mocks_server, fund)

    status, body = get(gateway.client, born_today, gateway.clinic())

    assert (status, body["holder"]) == (200, {"birth_date": "2026-06-15", "sex": "female"})


def test_an_iin_unknown_to_the_fund_is_404(kz: KzGateway) -> None:
    answer = kz.client.get(STATUS + UNKNOWN, headers=kz.clinic())

    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


# --- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iin", "code"),
    [
        ("79102830272", "IIN_FORMAT"),
        ("79102830272x", "IIN_FORMAT"),
        ("791328302728", "IIN_FORMAT"),
        ("791028302720", "IIN_CHECKSUM"),
    ],
)
def test_a_malformed_iin_is_422_with_the_catalogue_reason_and_the_fund_is_not_asked(
    kz: KzGateway, iin: str, code: str
) -> None:
    answer = kz.client.get(STATUS + iin, headers=kz.clinic())

    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    [reason] = answer.get_json()["errors"]
    assert (reason["code"], reason["field"], reason["source"]) == (code, "iin", "gateway")
    assert reason["message"] and reason["recommendation"]
    assert kz.kz.calls == []


def test_an_iin_born_in_the_future_is_422(kz: KzGateway) -> None:
    answer = kz.client.get(STATUS + "991231512343", headers=kz.clinic())  # 31 Dec 2099, a man

    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["code"] == "IIN_FORMAT"


def test_a_fund_outage_is_503_with_retry_after(kz: KzGateway) -> None:
    kz.kz.fail("insurance_status", BackendUnavailable(Source.FUND, "GetInsuranceStatus", "timeout", 7))

    answer = kz.client.get(STATUS + INSURED, headers=kz.clinic())

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"


def test_a_refusal_of_the_fund_reaches_the_caller_as_the_funds_reason(kz: KzGateway) -> None:
    kz.kz.fail("insurance_status", BackendRefusal(Source.FUND, "IIN_CHECKSUM", "Контрольный разряд.", "iin"))

    status, body = get(kz.client, INSURED, kz.clinic())

    assert status == 422
    [reason] = body["errors"]
    assert (reason["code"], reason["source"], reason["field"]) == ("IIN_CHECKSUM", "fund", "iin")


def test_a_refusal_the_catalogue_lacks_keeps_the_funds_code_and_text(kz: KzGateway) -> None:
    kz.kz.fail("insurance_status", BackendRefusal(Source.FUND, "GBD_FL_LOCKED", "Запись заблокирована."))

    _, body = get(kz.client, INSURED, kz.clinic())

    [reason] = body["errors"]
    assert reason["code"] == "BACKEND_REJECTED"
    assert reason["details"] == {"backend_code": "GBD_FL_LOCKED", "backend_message": "Запись заблокирована."}


# --- who may read --------------------------------------------------------------------------------------------


def test_a_citizen_reads_the_status_of_the_iin_in_their_token(kz: KzGateway) -> None:
    status, body = get(kz.client, INSURED, kz.citizen(INSURED))

    assert status == 200
    assert body["insured"] is True


def test_a_citizen_asking_for_another_iin_gets_404_and_the_fund_is_not_asked(kz: KzGateway) -> None:
    status, _ = get(kz.client, NOT_INSURED, kz.citizen(INSURED))

    assert status == 404
    assert kz.kz.calls == []


def test_a_citizen_without_an_iin_claim_sees_no_status(kz: KzGateway) -> None:
    assert get(kz.client, INSURED, kz.auth(scope="epolicy.read"))[0] == 404
    assert get(kz.client, INSURED, kz.citizen(None))[0] == 404


def test_a_malformed_iin_is_422_for_a_citizen_too_since_it_names_nobody(kz: KzGateway) -> None:
    assert get(kz.client, "791028302720", kz.citizen(INSURED))[0] == 422


def test_without_a_token_the_status_is_401(kz: KzGateway) -> None:
    answer = kz.client.get(STATUS + INSURED)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_neither_read_nor_eligibility_is_403(kz: KzGateway) -> None:
    answer = kz.client.get(STATUS + INSURED, headers=kz.auth(scope="epolicy.apply"))

    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


# --- packages ------------------------------------------------------------------------------------------------


def test_the_packages_are_public_reference_data_with_their_services(kz: KzGateway) -> None:
    answer = kz.client.get("/api/v1/kz/packages")

    assert answer.status_code == 200
    assert "public" in answer.headers["Cache-Control"]
    body = answer.get_json()
    items = {item["code"]: item for item in body["items"]}
    assert list(items) == ["gobmp", "osms"]
    assert items["gobmp"]["short_name"] == "ГОБМП"
    assert "Скорая медицинская помощь, включая медицинскую авиацию." in items["gobmp"]["services"]
    assert "Медицинская реабилитация." in items["osms"]["services"]
    assert [(entry["code"], entry["insured"], entry["parts"]) for entry in body["applicable"]] == [
        ("gobmp", False, ["gobmp"]),
        ("gobmp_osms", True, ["gobmp", "osms"]),
    ]


def test_the_packages_answer_any_token_as_well(kz: KzGateway) -> None:
    assert kz.client.get("/api/v1/kz/packages", headers=kz.clinic()).status_code == 200


def test_a_packages_file_of_its_own_can_be_configured(mocks_server: RunningMocks, tmp_path: Any) -> None:
    own = tmp_path / "packages.yaml"
    own.write_text(
        "packages:\n"
        "  - {code: gobmp, short_name: ГОБМП, name: ГОБМП, for_whom: Всем, services: [Скорая помощь.]}\n"
        "  - {code: osms, short_name: ОСМС, name: ОСМС, for_whom: Застрахованным, services: [Реабилитация.]}\n",
        encoding="utf-8",
    )
    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 0, "KZ_PACKAGES_FILE": str(own)},
        store=FakeStore(),
        fund=FakeFund(),
        insurers=FakeInsurers({}),
        kz_fund=FakeKzFund(),
    )

    items = app.test_client().get("/api/v1/kz/packages").get_json()["items"]

    assert [item["services"] for item in items] == [["Скорая помощь."], ["Реабилитация."]]
