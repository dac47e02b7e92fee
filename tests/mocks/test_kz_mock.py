"""Behaviour of the mock Kazakh fund (ФСМС): insured or not on a day, the package, refusals, through SOAP envelopes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from lxml import etree

import contracts
from mocks.kz import KzRegistry, create_kz_service
from mocks.kz.iin import check_digit, is_valid
from mocks.kz.registry import SeedError
from mocks.soap import SoapService
from tests.support.xml import assert_same_xml

SEED = Path(__file__).resolve().parents[2] / "mocks" / "data" / "kz.yaml"
TODAY = date(2026, 6, 15)
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
KZ = "urn:epolicy:kz:osms:v1"
COMMON = "urn:epolicy:common:v1"
SCHEMA = etree.XMLSchema(etree.parse(str(contracts.path("kz", "osms.xsd"))))
CATALOGUE = {
    reason["code"]
    for reason in yaml.safe_load(contracts.path("rejections.yaml").read_text(encoding="utf-8"))["reasons"]
}

# The seeded persons (mocks/data/kz.yaml).
EMPLOYEE = "791028302728"  # insured, open period since 2020-01-01
SCHOOLGIRL = "061211600012"  # insured, state-paid, since 2020-01-01
UNPAID = "850314401236"  # insured 2020-01-01 .. 2023-06-30, contributions unpaid since
UNKNOWN = "900517300019"  # a valid ИИН the fund does not know
WRONG_CHECK_DIGIT = "900517300010"


@pytest.fixture
def service() -> SoapService:
    return create_kz_service(KzRegistry(SEED, today=lambda: TODAY))


def request(iin: str, on: str | None = None, message_id: str = "kz-test-1") -> bytes:
    on_date = f"<k:OnDate>{on}</k:OnDate>" if on else ""
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:k="{KZ}"><soap:Body><k:GetInsuranceStatusRequest>'
        f"<k:MessageId>{message_id}</k:MessageId><k:Iin>{iin}</k:Iin>{on_date}"
        "</k:GetInsuranceStatusRequest></soap:Body></soap:Envelope>"
    ).encode()


def payload(body: bytes) -> etree._Element:
    element = etree.fromstring(body).find(f"{{{SOAP}}}Body")
    assert element is not None
    return element[0]


def values(element: etree._Element) -> dict[str, str]:
    """Leaf texts by their path of local names, such as {"Insured": "true", "Period/From": "2020-01-01"}."""
    found = {}
    for leaf in element.iter():
        if not isinstance(leaf.tag, str) or len(leaf):
            continue
        names, node = [], leaf
        while node is not element:
            names.append(etree.QName(node).localname)
            node = node.getparent()
        found["/".join(reversed(names))] = leaf.text or ""
    return found


def status(service: SoapService, iin: str, on: str | None = None) -> dict[str, str]:
    answer = service.handle(request(iin, on))
    assert answer.status == 200, answer.body.decode()
    response = payload(answer.body)
    assert SCHEMA.validate(etree.ElementTree(response)), SCHEMA.error_log
    return values(response)


def fault(service: SoapService, body: bytes) -> tuple[str, dict[str, str]]:
    answer = service.handle(body)
    assert answer.status == 500
    envelope_fault = payload(answer.body)
    faultcode = envelope_fault.findtext("faultcode") or ""
    detail = envelope_fault.find("detail")
    assert detail is not None
    assert SCHEMA.validate(etree.ElementTree(detail[0])), SCHEMA.error_log
    return faultcode, values(detail[0])


def test_an_insured_employee_gets_gobmp_and_osms_with_an_open_period(service: SoapService) -> None:
    answer = status(service, EMPLOYEE)

    assert answer["Insured"] == "true"
    assert answer["Package"] == "gobmp_osms"
    assert answer["Period/From"] == "2020-01-01"
    assert "Period/To" not in answer
    assert (answer["Iin"], answer["OnDate"], answer["MessageId"]) == (EMPLOYEE, "2026-06-15", "kz-test-1")


def test_a_schoolgirl_whose_contributions_the_state_pays_is_insured(service: SoapService) -> None:
    assert status(service, SCHOOLGIRL)["Package"] == "gobmp_osms"


def test_a_person_with_unpaid_contributions_is_not_insured_and_gets_gobmp_only(service: SoapService) -> None:
    answer = status(service, UNPAID)

    assert answer["Insured"] == "false"
    assert answer["Package"] == "gobmp"
    assert not any(key.startswith("Period") for key in answer)


def test_on_a_day_covered_by_past_contributions_the_same_person_was_insured(service: SoapService) -> None:
    answer = status(service, UNPAID, on="2023-06-30")

    assert (answer["Insured"], answer["Package"]) == ("true", "gobmp_osms")
    assert (answer["Period/From"], answer["Period/To"], answer["OnDate"]) == ("2020-01-01", "2023-06-30", "2023-06-30")


def test_the_day_after_the_last_covered_day_the_person_is_not_insured(service: SoapService) -> None:
    assert status(service, UNPAID, on="2023-07-01")["Insured"] == "false"


def test_before_the_first_period_nobody_is_insured(service: SoapService) -> None:
    assert status(service, EMPLOYEE, on="2019-12-31")["Package"] == "gobmp"


def test_an_iin_unknown_to_the_fund_is_refused_as_iin_not_found(service: SoapService) -> None:
    faultcode, detail = fault(service, request(UNKNOWN))

    assert faultcode == "soap:Client"
    assert (detail["Code"], detail["Field"], detail["MessageId"]) == ("IIN_NOT_FOUND", "Iin", "kz-test-1")


def test_a_wrong_check_digit_is_refused_as_iin_checksum(service: SoapService) -> None:
    _, detail = fault(service, request(WRONG_CHECK_DIGIT))
    assert (detail["Code"], detail["Field"]) == ("IIN_CHECKSUM", "Iin")


def test_an_impossible_birth_date_is_refused_as_iin_format(service: SoapService) -> None:
    _, detail = fault(service, request("791328302728"))
    assert detail["Code"] == "IIN_FORMAT"


def test_an_iin_of_eleven_digits_breaks_the_schema(service: SoapService) -> None:
    _, detail = fault(service, request("90051730001"))
    assert (detail["Code"], detail["Field"]) == ("SCHEMA_VIOLATION", "Iin")


def test_every_code_the_mock_refuses_with_is_in_the_catalogue() -> None:
    assert {"IIN_NOT_FOUND", "IIN_CHECKSUM", "IIN_FORMAT", "SCHEMA_VIOLATION"} <= CATALOGUE


def test_a_repeated_message_id_is_answered_as_the_first_time(service: SoapService) -> None:
    assert_same_xml(service.handle(request(EMPLOYEE)).body, service.handle(request(EMPLOYEE)).body)


def test_a_doctype_is_refused_before_it_is_read(service: SoapService) -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + request(EMPLOYEE)
    _, detail = fault(service, body)
    assert detail["Code"] == "SCHEMA_VIOLATION"


def test_the_seed_is_read_again_on_reset(tmp_path: Path) -> None:
    seed = tmp_path / "kz.yaml"
    seed.write_text(f'persons:\n  - iin: "{EMPLOYEE}"\n    periods: []\n', encoding="utf-8")
    registry = KzRegistry(seed, today=lambda: TODAY)
    assert registry.status(EMPLOYEE, None).insured is False

    seed.write_text(f'persons:\n  - iin: "{EMPLOYEE}"\n    periods: [{{from: 2026-01-01}}]\n', encoding="utf-8")
    registry.reset()

    assert registry.status(EMPLOYEE, None).insured is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'persons:\n  - iin: "{WRONG_CHECK_DIGIT}"\n', "контрольным"),
        (f'persons:\n  - iin: "{EMPLOYEE}"\n  - iin: "{EMPLOYEE}"\n', "повторяется"),
        (f'persons:\n  - iin: "{EMPLOYEE}"\n    periods: [{{from: 2026-01-01, to: 2025-01-01}}]\n', "раньше"),
    ],
)
def test_a_seed_typo_stops_the_mock_with_a_message_naming_it(tmp_path: Path, text: str, message: str) -> None:
    seed = tmp_path / "kz.yaml"
    seed.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError, match=message):
        KzRegistry(seed)


def test_the_mocks_iin_check_agrees_with_the_published_examples() -> None:
    assert is_valid("061211600012") and is_valid("791028302728")
    assert check_digit("90051740061") is None
    assert not is_valid(WRONG_CHECK_DIGIT)
    assert not is_valid("٠٦١٢١١٦٠٠٠١٢")  # Arabic-Indic digits: digits to str.isdigit, no ИИН
    assert not is_valid("²" * 12)


# --- through the mocks app ---------------------------------------------------------------------------------


def test_the_app_serves_the_wsdl_pointing_at_where_it_was_fetched(client: FlaskClient) -> None:
    answer = client.get("/kz/fund?wsdl")

    assert answer.status_code == 200
    wsdl = etree.fromstring(answer.data)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == "http://localhost/kz/fund"
    imports = [node.get("schemaLocation") for node in wsdl.iter("{http://www.w3.org/2001/XMLSchema}import")]
    assert imports == ["http://localhost/contracts/kz/osms.xsd", "http://localhost/contracts/common/common.xsd"]
    assert client.get("/contracts/kz/osms.xsd").status_code == 200


def test_kz_fund_is_a_fault_injection_target(client: FlaskClient) -> None:
    created = client.post(
        "/mock/faults", json={"target": "kz/fund", "operation": "GetInsuranceStatus", "fault": "http_500", "count": 1}
    )
    assert created.status_code == 201

    failed = client.post("/kz/fund", data=request(EMPLOYEE), content_type="text/xml; charset=utf-8")
    answered = client.post("/kz/fund", data=request(EMPLOYEE), content_type="text/xml; charset=utf-8")

    assert (failed.status_code, failed.headers["X-Mock-Fault"]) == (500, "http_500")
    assert answered.status_code == 200


def test_an_unknown_operation_of_kz_fund_cannot_be_a_fault_target(client: FlaskClient) -> None:
    answer = client.post("/mock/faults", json={"target": "kz/fund", "operation": "FindPerson", "fault": "drop"})
    assert answer.status_code == 400
    assert "GetInsuranceStatus" in answer.get_json()["detail"]


def test_calls_to_kz_fund_are_counted_in_the_stats(client: FlaskClient) -> None:
    client.post("/kz/fund", data=request(EMPLOYEE), content_type="text/xml; charset=utf-8")
    assert client.get("/mock/stats").get_json()["calls"]["kz/fund"] == {"GetInsuranceStatus": 1}
