"""Behaviour of the mock fund's version 2 operations: clinics, attachment and visits, through SOAP envelopes."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from lxml import etree

import contracts
from mocks.fund import Registry, create_fund_service
from mocks.fund.visits import SERVICES
from mocks.soap import SoapService
from tests.support.envelopes import Answer, send
from tests.support.xml import assert_same_xml

SEED = Path(__file__).resolve().parents[2] / "mocks" / "data" / "registry.yaml"
TODAY = date(2026, 6, 15)
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
FUND_V1 = "urn:epolicy:fund:v1"
FUND_V2 = "urn:epolicy:fund:v2"
SCHEMA = etree.XMLSchema(etree.parse(str(contracts.path("fund", "fund-all.xsd"))))

# Seeded persons of mocks/data/registry.yaml.
MOROZOV = "7748410819000012"  # region 77, attached to 770101 by choice since 2023-02-01, four fixed visits
LEBEDEVA = "7752020876000012"  # region 77, attached to 770102 by choice since 2026-03-10, no visits
KARIMOV = "7757110838000013"  # policy expired 2025-12-31
SOKOLOVA = "7796789779000018"  # insured since 2012-04-10, no fixed visits
SIDOROV = "7770150846000012"  # died 2025-03-10, insured since 2011-05-12
UNKNOWN = "7754900882999992"  # a valid check digit, no such person
FULL_CLINIC = "770103"

_message_ids = itertools.count(1)


# --- envelopes -------------------------------------------------------------------------------------------------


def f2(tag: str, *children: etree._Element | str | date | None, namespace: str = FUND_V2) -> etree._Element:
    """An element of fund-v2.xsd; None children are left out."""
    elem = etree.Element(f"{{{namespace}}}{tag}")
    for child in children:
        if isinstance(child, etree._Element):
            elem.append(child)
        elif child is not None:
            elem.text = child.isoformat() if isinstance(child, date) else child
    return elem


def call(fund: SoapService, operation: str, *children: etree._Element | None, message_id: str = "") -> Answer:
    """Send one request envelope; every answer and fault detail must match the schema."""
    request = f2(f"{operation}Request", f2("MessageId", message_id or f"msg-{next(_message_ids)}"), *children)
    return send(fund, request, SCHEMA)


def visit_rows(answer: Answer) -> list[tuple[str | None, ...]]:
    """Every visit of a GetVisits answer as the texts of its elements."""
    return [tuple(child.text for child in visit) for visit in answer.element.iterfind(f"{{{FUND_V2}}}Visit")]


def clinics(fund: SoapService, region: str) -> Answer:
    return call(fund, "ListClinics", f2("RegionCode", region))


def attach(
    fund: SoapService,
    enp: str,
    clinic: str,
    *,
    on: date = TODAY,
    reason: str | None = "choice",
    message_id: str = "",
) -> Answer:
    return call(
        fund,
        "AttachToClinic",
        f2("Enp", enp),
        f2("ClinicCode", clinic),
        f2("ApplicationDate", on),
        f2("Reason", reason) if reason else None,
        message_id=message_id,
    )


def attachment(fund: SoapService, enp: str) -> Answer:
    return call(fund, "GetAttachment", f2("Enp", enp))


def visits(fund: SoapService, enp: str, start: date | None = None, end: date | None = None) -> Answer:
    return call(fund, "GetVisits", f2("Enp", enp), f2("From", start) if start else None, f2("To", end) if end else None)


# --- fixtures --------------------------------------------------------------------------------------------------

MakeFund = Callable[..., tuple[Registry, SoapService]]


@pytest.fixture
def make_fund(tmp_path: Path) -> MakeFund:
    """A fresh registry and its SOAP service on a chosen day, from the seed or from a changed copy of it."""

    def make(
        today: date = TODAY, change: Callable[[dict[str, Any]], None] | None = None
    ) -> tuple[Registry, SoapService]:
        seed = SEED
        if change is not None:
            data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
            change(data)
            seed = tmp_path / "registry.yaml"
            seed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        registry = Registry.from_seed(seed, today=lambda: today)
        return registry, create_fund_service(registry)

    return make


@pytest.fixture
def registry(make_fund: MakeFund) -> Registry:
    return make_fund()[0]


@pytest.fixture
def fund(registry: Registry) -> SoapService:
    return create_fund_service(registry)


def clinic_entry(data: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(entry for entry in data["clinics"] if entry["code"] == code)
    return found


# --- ListClinics -----------------------------------------------------------------------------------------------


def test_lists_the_clinics_of_a_region_by_code_and_marks_the_full_one(fund: SoapService) -> None:
    answer = clinics(fund, "77")
    assert answer.all("Clinic/Code") == ["770101", "770102", FULL_CLINIC]
    assert set(answer.all("Clinic/RegionCode")) == {"77"}
    assert answer.all("Clinic/AcceptsAttachment") == ["true", "true", "false"]
    assert clinics(fund, "50").all("Clinic/Code") == ["500101", "500102"]


def test_lists_no_clinic_in_a_region_without_any(fund: SoapService) -> None:
    answer = clinics(fund, "01")
    assert answer.ok and answer.all("Clinic") == []


# --- AttachToClinic and GetAttachment --------------------------------------------------------------------------


def test_reads_the_seeded_attachment(fund: SoapService) -> None:
    answer = attachment(fund, MOROZOV)
    assert (answer.get("Enp"), answer.get("Attachment/ClinicCode")) == (MOROZOV, "770101")
    assert (answer.get("Attachment/Since"), answer.get("Attachment/Reason")) == ("2023-02-01", "choice")
    assert answer.get("Attachment/ClinicName") == "ГБУЗ «Городская поликлиника № 301»"


def test_reads_no_attachment_of_a_person_never_attached(fund: SoapService) -> None:
    answer = attachment(fund, SOKOLOVA)
    assert answer.ok and answer.get("Attachment") is None


def test_attaches_to_another_clinic_by_choice_a_year_after_the_last_choice(fund: SoapService) -> None:
    answer = attach(fund, MOROZOV, "770102")
    assert (answer.get("Attachment/ClinicCode"), answer.get("Attachment/Since")) == ("770102", "2026-06-15")
    assert answer.get("Attachment/Reason") == "choice"
    assert attachment(fund, MOROZOV).get("Attachment/ClinicCode") == "770102"


def test_attaches_by_choice_when_no_reason_is_given(fund: SoapService) -> None:
    assert attach(fund, SOKOLOVA, "770101", reason=None).get("Attachment/Reason") == "choice"


def test_refuses_a_second_choice_within_a_year_with_the_day_it_becomes_possible(fund: SoapService) -> None:
    answer = attach(fund, LEBEDEVA, "770101")
    assert answer.refusal == ("CLINIC_CHANGE_LIMIT", "Reason")
    assert answer.get("AllowedFrom") == "2027-03-10"


def test_allows_the_next_choice_on_the_day_a_year_after(make_fund: MakeFund) -> None:
    _, fund = make_fund(date(2027, 3, 10))
    assert attach(fund, LEBEDEVA, "770101", on=date(2027, 3, 10)).ok
    _, fund = make_fund(date(2027, 3, 9))
    assert attach(fund, LEBEDEVA, "770101", on=date(2027, 3, 9)).refusal[0] == "CLINIC_CHANGE_LIMIT"


def test_allows_a_change_on_relocation_at_any_time(fund: SoapService) -> None:
    answer = attach(fund, LEBEDEVA, "770101", reason="relocation")
    assert (answer.get("Attachment/ClinicCode"), answer.get("Attachment/Reason")) == ("770101", "relocation")


def test_a_relocation_does_not_restart_the_year_of_the_last_choice(make_fund: MakeFund) -> None:
    _, fund = make_fund(date(2027, 3, 10))
    assert attach(fund, LEBEDEVA, "770101", on=date(2027, 1, 15), reason="relocation").ok
    assert attach(fund, LEBEDEVA, "770102", on=date(2027, 3, 10)).ok


def test_refuses_the_clinic_the_person_is_already_attached_to(fund: SoapService) -> None:
    assert attach(fund, MOROZOV, "770101", reason="relocation").refusal == ("CLINIC_ALREADY_ATTACHED", "ClinicCode")


def test_refuses_a_full_clinic(fund: SoapService) -> None:
    assert attach(fund, MOROZOV, FULL_CLINIC).refusal == ("CLINIC_FULL", "ClinicCode")


def test_refuses_a_clinic_of_another_region_than_the_policys(fund: SoapService) -> None:
    assert attach(fund, MOROZOV, "500101").refusal == ("CLINIC_OTHER_REGION", "ClinicCode")


def test_refuses_a_clinic_the_register_does_not_know(fund: SoapService) -> None:
    assert attach(fund, MOROZOV, "779999").refusal == ("CLINIC_UNKNOWN", "ClinicCode")


@pytest.mark.parametrize(("enp", "who"), [(KARIMOV, "an expired policy"), (SIDOROV, "a deceased person")])
def test_refuses_a_person_whose_policy_is_not_in_force(fund: SoapService, enp: str, who: str) -> None:
    assert attach(fund, enp, "770101").refusal == ("POLICY_NOT_ACTIVE", "Enp"), who


def test_refuses_an_unknown_enp_in_every_operation(fund: SoapService) -> None:
    assert attach(fund, UNKNOWN, "770101").refusal == ("ENP_NOT_FOUND", "Enp")
    assert attachment(fund, UNKNOWN).refusal == ("ENP_NOT_FOUND", "Enp")
    assert visits(fund, UNKNOWN).refusal == ("ENP_NOT_FOUND", "Enp")


def test_refuses_an_application_dated_after_today(fund: SoapService) -> None:
    answer = attach(fund, SOKOLOVA, "770101", on=TODAY + timedelta(days=1))
    assert answer.refusal == ("APPLICATION_DATE_INVALID", "ApplicationDate")


def test_the_same_message_id_attaches_once_and_answers_the_same(registry: Registry, fund: SoapService) -> None:
    first = attach(fund, SOKOLOVA, "770101", message_id="attach-once")
    again = attach(fund, SOKOLOVA, "770102", message_id="attach-once")
    assert_same_xml(again.element, first.element)
    assert registry.clinics.attachment_count() == 1
    assert attachment(fund, SOKOLOVA).get("Attachment/ClinicCode") == "770101"


def test_a_clinic_is_full_once_its_last_place_is_taken_and_open_again_when_one_leaves(make_fund: MakeFund) -> None:
    def one_place_left(data: dict[str, Any]) -> None:
        entry = clinic_entry(data, "770102")
        entry["capacity"] = entry["attached"] + 2  # Лебедева holds one of the two places

    _, fund = make_fund(change=one_place_left)
    assert attach(fund, SOKOLOVA, "770102").ok
    assert clinics(fund, "77").all("Clinic/AcceptsAttachment")[1] == "false"
    assert attach(fund, MOROZOV, "770102").refusal == ("CLINIC_FULL", "ClinicCode")
    assert attach(fund, LEBEDEVA, "770101", reason="relocation").ok
    assert attach(fund, MOROZOV, "770102").ok


def test_a_policy_moved_to_another_region_ends_the_attachment(make_fund: MakeFund) -> None:
    def moved_to_region_50(data: dict[str, Any]) -> None:
        morozov = next(entry for entry in data["persons"] if entry["enp"] == MOROZOV)
        morozov["policies"][-1]["valid_to"] = date(2026, 1, 9)
        morozov["policies"].append(
            {"insurer_code": "50001", "region_code": "50", "policy_form": "electronic",
             "valid_from": date(2026, 1, 10), "reason": "relocation"}
        )  # fmt: skip

    _, fund = make_fund(change=moved_to_region_50)
    assert attachment(fund, MOROZOV).get("Attachment") is None
    assert attach(fund, MOROZOV, "770102").refusal == ("CLINIC_OTHER_REGION", "ClinicCode")
    assert attach(fund, MOROZOV, "500101").get("Attachment/ClinicCode") == "500101"


def test_reset_forgets_the_attachments_made_since_the_seed(registry: Registry, fund: SoapService) -> None:
    attach(fund, MOROZOV, "770102")
    registry.reset()
    assert attachment(fund, MOROZOV).get("Attachment/ClinicCode") == "770101"
    assert registry.clinics.attachment_count() == 0


def test_stats_count_real_attachments_and_reset_forgets_them(client: FlaskClient) -> None:
    body = (contracts.path("samples", "fund", "AttachToClinic.request.xml")).read_bytes()
    # Морозов (seeded) may choose another clinic: his last choice was in 2023.
    request = body.replace(b"7754900882000015", MOROZOV.encode()).replace(b"2026-03-10", b"2026-11-01")
    assert client.post("/fund", data=request, content_type="text/xml").status_code == 200
    assert client.post("/fund", data=request, content_type="text/xml").status_code == 200
    assert client.get("/mock/stats").get_json()["attachments"] == 1, "a repeated MessageId attaches once"
    assert client.post("/mock/reset").status_code == 204
    assert client.get("/mock/stats").get_json()["attachments"] == 0
    assert client.post("/fund", data=request, content_type="text/xml").status_code == 200
    assert client.get("/mock/stats").get_json()["attachments"] == 1, "after the reset the MessageId attaches anew"


# --- GetVisits -------------------------------------------------------------------------------------------------


def test_seeded_visits_are_answered_as_listed_oldest_first(fund: SoapService) -> None:
    answer = visits(fund, MOROZOV)
    assert answer.all("Visit/Date") == ["2024-03-12", "2025-01-20", "2025-09-03", "2026-02-16"]
    assert answer.all("Visit/AmountPaid") == ["2950.00", "1250.00", "980.00", "23540.00"]
    assert answer.all("Visit/CareKind") == ["outpatient", "outpatient", "outpatient", "day_hospital"]
    assert answer.all("Visit/ClinicName")[2] == "ГБУЗ «Городская поликлиника № 302»"
    first = answer.element.find(f"{{{FUND_V2}}}Visit")
    assert first is not None and first.find(f"{{{FUND_V2}}}DiagnosisGroup") is None, "a check-up names no diagnosis"


def test_visits_of_a_period_include_both_ends(fund: SoapService) -> None:
    assert visits(fund, MOROZOV, date(2025, 1, 20), date(2025, 9, 3)).all("Visit/Date") == ["2025-01-20", "2025-09-03"]
    assert visits(fund, MOROZOV, start=date(2025, 9, 4)).all("Visit/Date") == ["2026-02-16"]
    assert visits(fund, MOROZOV, end=date(2024, 12, 31)).all("Visit/Date") == ["2024-03-12"]


def test_a_person_seeded_without_visits_has_none(fund: SoapService) -> None:
    answer = visits(fund, LEBEDEVA)
    assert answer.ok and answer.all("Visit") == []


def test_refuses_a_period_that_ends_before_it_starts(fund: SoapService) -> None:
    assert visits(fund, MOROZOV, date(2025, 2, 1), date(2025, 1, 31)).refusal == ("VISITS_PERIOD_INVALID", "From")


def test_derived_visits_are_the_same_on_every_call_and_for_every_registry(make_fund: MakeFund) -> None:
    _, first = make_fund()
    _, second = make_fund()
    answer = visit_rows(visits(first, SOKOLOVA))
    assert answer
    assert visit_rows(visits(first, SOKOLOVA)) == answer
    assert visit_rows(visits(second, SOKOLOVA)) == answer


def test_derived_visits_fall_while_insured_at_least_once_a_year_in_clinics_of_the_region(fund: SoapService) -> None:
    answer = visits(fund, SOKOLOVA)
    dates = [date.fromisoformat(day or "") for day in answer.all("Visit/Date")]
    assert dates == sorted(dates)
    assert date(2012, 4, 10) <= dates[0] and dates[-1] <= TODAY
    years_insured = (TODAY - date(2012, 4, 10)).days // 365
    assert len(dates) >= years_insured
    assert set(answer.all("Visit/ClinicCode")) <= {"770101", "770102", FULL_CLINIC}
    tariff = {(kind, service, f"{amount:.2f}") for kind, service, _, amount in SERVICES}
    paid = zip(answer.all("Visit/CareKind"), answer.all("Visit/Service"), answer.all("Visit/AmountPaid"), strict=True)
    assert set(paid) <= tariff
    assert len(set(answer.all("Visit/VisitId"))) == len(dates)


def test_derived_visits_stop_when_the_policy_is_annulled(fund: SoapService) -> None:
    dates = visits(fund, SIDOROV).all("Visit/Date")
    assert dates and max(date.fromisoformat(day or "") for day in dates) < date(2025, 3, 10)


def test_derived_visits_already_answered_never_change_as_time_goes_on(make_fund: MakeFund) -> None:
    _, now = make_fund(TODAY)
    _, later = make_fund(TODAY + timedelta(days=400))
    before = visits(now, SOKOLOVA).all("Visit/VisitId")
    after = visits(later, SOKOLOVA).all("Visit/VisitId")
    assert after[: len(before)] == before
    assert len(after) > len(before)


def test_a_person_insured_today_has_no_visits_yet(make_fund: MakeFund) -> None:
    _, fund = make_fund(date(2012, 4, 10))
    assert visits(fund, SOKOLOVA).all("Visit") == []


def test_amounts_are_written_with_kopecks(fund: SoapService) -> None:
    amounts = visits(fund, SOKOLOVA).all("Visit/AmountPaid")
    assert amounts and all(Decimal(amount or "").as_tuple().exponent == -2 for amount in amounts)


# --- the contract ----------------------------------------------------------------------------------------------


def test_a_version_2_operation_asked_in_the_version_1_namespace_breaks_the_schema(fund: SoapService) -> None:
    request = f2("ListClinicsRequest", f2("MessageId", "v1-ns", namespace=FUND_V1),
                 f2("RegionCode", "77", namespace=FUND_V1), namespace=FUND_V1)  # fmt: skip
    envelope = etree.Element(f"{{{SOAP}}}Envelope")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(request)
    response = fund.handle(etree.tostring(envelope))
    assert response.status == 500
    assert b"SCHEMA_VIOLATION" in response.body
