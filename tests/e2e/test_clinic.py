"""A citizen prints their e-policy; a clinic scans its QR code and checks the coverage, in JSON and in FHIR R4.

Over real HTTP against `epolicy stack` (the gateway, its workers, the mock fund, insurers and OAuth server).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pypdfium2
import pytest
import requests
import zxingcpp
from pypdf import PdfReader

from tests.support.fhir import r4_problems
from tests.support.stack import Api, Stack, adult, application, citizen

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

FHIR_CHECK = "/api/v1/fhir/CoverageEligibilityRequest/$check"
INSURER_77001 = "АО «Столичная медицинская страховая компания»"
DECEASED_ENP = "7770150846000012"  # mocks/data/registry.yaml: died 2025-03-10, the policy reads as annulled


@pytest.fixture(scope="module")
def insured(stack: Stack) -> tuple[Api, str, str]:
    """A citizen insured through the gateway today: their API client, СНИЛС and ЕНП."""
    api, snils = citizen(stack)
    answer = api.post("/api/v1/applications", application(adult(snils)))
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    return api, snils, done["policy"]["enp"]


@pytest.fixture
def clinic(stack: Stack) -> Api:
    return Api(stack, stack.clinic_token())


@pytest.fixture
def fund_down(stack: Stack) -> Iterator[None]:
    rule = {"target": "fund", "operation": "GetInsuranceStatus", "fault": "http_500", "count": None}
    assert requests.post(f"{stack.mocks}/mock/faults", json=rule, timeout=5).status_code == 201
    yield
    assert requests.delete(f"{stack.mocks}/mock/faults", timeout=5).status_code == 204


def scanned_qr_codes(pdf: bytes) -> list[str]:
    """What a scanner reads from the printed first page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=2).to_pil()
        page.close()
    finally:
        document.close()
    return [found.text for found in zxingcpp.read_barcodes(image)]


def test_a_citizen_prints_the_e_policy_and_a_clinic_scans_its_qr_code_to_check_coverage(
    insured: tuple[Api, str, str], clinic: Api
) -> None:
    api, _, enp = insured
    printed = api.get(f"/api/v1/policies/{enp}/document")
    assert printed.status_code == 200
    assert printed.headers["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(printed.content)).pages)
    for expected in (enp, INSURER_77001, "Иванова Анна Сергеевна", "17.05.1990", "действует"):
        assert expected in text, expected

    (scanned,) = scanned_qr_codes(printed.content)
    assert scanned == enp
    answer = clinic.get("/api/v1/coverage", params={"enp": scanned, "region_code": "77"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert (body["covered"], body["enp"], body["programme"]) == (True, enp, "territorial")
    assert body["insurer"] == {"code": "77001", "name": INSURER_77001}


def test_a_clinic_in_another_region_works_under_the_basic_programme(insured: tuple[Api, str, str], clinic: Api) -> None:
    _, _, enp = insured
    body = clinic.get("/api/v1/coverage", params={"enp": enp, "region_code": "50"}).json()
    assert (body["covered"], body["programme"], body["policy"]["region_code"]) == (True, "basic", "77")


def test_a_clinic_that_knows_only_the_snils_finds_the_policy(insured: tuple[Api, str, str], clinic: Api) -> None:
    _, snils, enp = insured
    written = f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    body = clinic.get("/api/v1/coverage", params={"snils": written, "region_code": "77"}).json()
    assert (body["covered"], body["enp"]) == (True, enp)


def test_a_clinic_speaking_fhir_gets_a_coverage_eligibility_response(
    insured: tuple[Api, str, str], clinic: Api
) -> None:
    _, _, enp = insured
    answer = clinic.get(FHIR_CHECK, params={"enp": enp, "region_code": "50"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    resource = answer.json()
    assert r4_problems(resource) == []
    assert resource["patient"]["identifier"]["value"] == enp
    assert resource["request"]["identifier"]["value"] == answer.headers["X-Correlation-ID"]
    (insurance,) = resource["insurance"]
    assert insurance["inforce"] is True
    assert insurance["item"][0]["category"]["coding"][0]["code"] == "basic"


def test_a_deceased_persons_policy_covers_no_one_and_says_why(clinic: Api) -> None:
    body = clinic.get("/api/v1/coverage", params={"enp": DECEASED_ENP, "region_code": "77"}).json()
    assert (body["covered"], body["programme"], body["policy"]["status"]) == (False, None, "annulled")
    assert (body["reason"]["code"], body["reason"]["source"]) == ("POLICY_ANNULLED", "fund")
    resource = clinic.get(FHIR_CHECK, params={"enp": DECEASED_ENP, "region_code": "77"}).json()
    assert r4_problems(resource) == []
    assert resource["insurance"][0]["inforce"] is False


def test_wrong_and_unknown_numbers_are_refused_with_catalogue_reasons(clinic: Api) -> None:
    wrong = clinic.get("/api/v1/coverage", params={"enp": "7754900882000016", "region_code": "77"})
    assert wrong.status_code == 422
    assert [e["code"] for e in wrong.json()["errors"]] == ["ENP_CHECKSUM"]
    unknown = clinic.get("/api/v1/coverage", params={"snils": "010-242-368 77", "region_code": "77"})
    assert unknown.status_code == 404
    assert [e["code"] for e in unknown.json()["errors"]] == ["SNILS_NOT_FOUND"]
    outcome = clinic.get(FHIR_CHECK, params={"enp": "7754900882000016", "region_code": "77"})
    assert outcome.status_code == 422
    assert r4_problems(outcome.json()) == []
    assert outcome.json()["issue"][0]["expression"] == ["http.enp"]


@pytest.mark.usefixtures("fund_down")
def test_a_fund_outage_is_a_503_with_retry_after_for_both_kinds_of_clinic(
    insured: tuple[Api, str, str], clinic: Api
) -> None:
    _, _, enp = insured
    answer = clinic.get("/api/v1/coverage", params={"enp": enp, "region_code": "77"})
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    outcome = clinic.get(FHIR_CHECK, params={"enp": enp, "region_code": "77"})
    assert outcome.status_code == 503
    assert outcome.json()["issue"][0]["code"] == "transient"


def test_a_citizen_cannot_print_anothers_e_policy_nor_check_coverage(
    stack: Stack, insured: tuple[Api, str, str]
) -> None:
    _, _, enp = insured
    stranger, _ = citizen(stack)
    assert stranger.get(f"/api/v1/policies/{enp}/document").status_code == 404
    assert stranger.get("/api/v1/coverage", params={"enp": enp, "region_code": "77"}).status_code == 403
