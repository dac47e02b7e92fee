"""The Kazakh profile over real HTTP on the running stack: a clinic checks ОСМС status by ИИН, anyone reads packages."""

from __future__ import annotations

import pytest
import requests

from mocks.calendar import almaty_today
from tests.support.stack import Stack

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

# Seed persons of mocks/data/kz.yaml.
EMPLOYEE = "791028302728"
UNPAID = "850314401236"
UNKNOWN = "900517300019"


def status(stack: Stack, iin: str, token: str) -> requests.Response:
    return requests.get(
        f"{stack.gateway}/api/v1/kz/insurance-status/{iin}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_a_clinic_sees_an_insured_employee_entitled_to_gobmp_and_osms(stack: Stack) -> None:
    answer = status(stack, EMPLOYEE, stack.clinic_token())

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["iin"], body["insured"], body["insured_from"]) == (EMPLOYEE, True, "2020-01-01")
    assert body["package"]["code"] == "gobmp_osms"
    assert body["package"]["name"] == "ГОБМП + ОСМС"
    assert body["holder"] == {"birth_date": "1979-10-28", "sex": "male"}
    assert body["on_date"] == almaty_today().isoformat()  # the Kazakh registry works in Almaty days


def test_a_clinic_sees_that_unpaid_contributions_leave_gobmp_only(stack: Stack) -> None:
    body = status(stack, UNPAID, stack.clinic_token()).json()

    assert (body["insured"], body["package"]["code"], body["insured_from"]) == (False, "gobmp", None)


def test_an_unknown_iin_is_404_and_a_wrong_check_digit_is_422_with_its_reason(stack: Stack) -> None:
    clinic = stack.clinic_token()

    assert status(stack, UNKNOWN, clinic).status_code == 404
    refused = status(stack, "791028302720", clinic)
    assert refused.status_code == 422
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["code"] == "IIN_CHECKSUM"


def test_a_citizen_token_without_an_iin_claim_sees_no_status(stack: Stack) -> None:
    assert status(stack, EMPLOYEE, stack.token("kz-user-1", scope="epolicy.read")).status_code == 404


def test_a_fund_outage_is_503_with_retry_after_and_the_next_read_goes_through(stack: Stack) -> None:
    rule = {"target": "kz/fund", "operation": "GetInsuranceStatus", "fault": "technical_fault", "count": 1}
    assert requests.post(f"{stack.mocks}/mock/faults", json=rule, timeout=10).status_code == 201
    clinic = stack.clinic_token()

    failed = status(stack, EMPLOYEE, clinic)

    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "5"
    assert status(stack, EMPLOYEE, clinic).status_code == 200


def test_anyone_reads_the_packages_and_their_services_without_a_token(stack: Stack) -> None:
    answer = requests.get(f"{stack.gateway}/api/v1/kz/packages", timeout=10)

    assert answer.status_code == 200
    items = {item["code"]: item for item in answer.json()["items"]}
    assert set(items) == {"gobmp", "osms"}
    assert any("реабилитация" in service.lower() for service in items["osms"]["services"])


def test_the_mock_fund_serves_its_wsdl(stack: Stack) -> None:
    answer = requests.get(f"{stack.mocks}/kz/fund?wsdl", timeout=10)

    assert answer.status_code == 200
    assert b"urn:epolicy:kz:osms:v1" in answer.content


def test_a_citizen_reads_only_the_iin_of_their_own_token(stack: Stack) -> None:
    answer = requests.post(
        f"{stack.mocks}/oauth/test/token",
        json={"sub": "kz-user", "iin": "791028302728", "scope": "epolicy.read"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    own = requests.get(f"{stack.gateway}/api/v1/kz/insurance-status/791028302728", headers=headers, timeout=10)
    assert own.status_code == 200, own.text
    assert own.json()["insured"] is True
    other = requests.get(f"{stack.gateway}/api/v1/kz/insurance-status/061211600012", headers=headers, timeout=10)
    assert other.status_code == 404
