"""The printable e-policy: a PDF read back as a person and a clinic's scanner would read it."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import UTC, date, datetime

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from gateway.documents import PolicyExtract, render_policy_extract
from gateway.domain.model import Policy, PolicyStatus, Restriction, Source
from tests.support.fakes import unavailable
from tests.support.gateway import Gateway
from tests.support.persons import ANNA, ENP, INSURER, POLICY

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

DOCUMENT = f"/api/v1/policies/{ENP}/document"


def pdf_text(data: bytes) -> str:
    """The text of every page, as a PDF reader extracts it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qr_codes(data: bytes) -> list[str]:
    """What the QR codes on the first page say, from the page rendered as an image."""
    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        image = page.render(scale=2).to_pil()
        page.close()
    finally:
        document.close()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]


def extract(policy: Policy = POLICY) -> PolicyExtract:
    return PolicyExtract(policy, INSURER, "Москва", datetime(2026, 11, 24, 9, 30, tzinfo=UTC))


@pytest.fixture
def holder(gateway: Gateway) -> dict[str, str]:
    gateway.fund.persons[ENP] = (ANNA, POLICY)
    return gateway.auth(sub="anna", snils=ANNA.snils, scope="epolicy.read")


# --- over the API --------------------------------------------------------------------------------------------


def test_the_holder_gets_a_pdf_extract_with_the_policy_data(gateway: Gateway, holder: dict[str, str]) -> None:
    answer = gateway.client.get(DOCUMENT, headers=holder)
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == f'inline; filename="policy-{ENP}.pdf"'
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.data.startswith(b"%PDF-")
    text = pdf_text(answer.data)
    for expected in (ENP, INSURER, "Иванова Анна Сергеевна", "17.05.1990", "действует", "77 — Москва",
                     "01.01.2020", "без ограничения срока", "Выписка сформирована"):  # fmt: skip
        assert expected in text, expected


def test_the_qr_code_of_the_extract_carries_the_enp(gateway: Gateway, holder: dict[str, str]) -> None:
    assert qr_codes(gateway.client.get(DOCUMENT, headers=holder).data) == [ENP]


def test_nobody_else_gets_the_holders_extract(gateway: Gateway, holder: dict[str, str]) -> None:
    stranger = gateway.auth(sub="user-2", snils="01024236877", scope="epolicy.read")
    assert gateway.client.get(DOCUMENT, headers=stranger).status_code == 404
    no_snils = gateway.auth(sub="user-3", snils=None, scope="epolicy.read")
    assert gateway.client.get(DOCUMENT, headers=no_snils).status_code == 404


def test_a_clinics_token_may_not_print_the_extract(gateway: Gateway, holder: dict[str, str]) -> None:
    # epolicy.eligibility reads any policy's status; the unmasked extract stays the holder's.
    clinic = gateway.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")
    answer = gateway.client.get(DOCUMENT, headers=clinic)
    assert answer.status_code == 403
    assert gateway.client.get(DOCUMENT).status_code == 401


def test_a_wrong_enp_is_a_422_and_an_unknown_one_a_404(gateway: Gateway, holder: dict[str, str]) -> None:
    wrong = gateway.client.get("/api/v1/policies/7754900882000016/document", headers=holder)
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["code"] == "ENP_CHECKSUM"
    assert gateway.client.get("/api/v1/policies/7748410819000012/document", headers=holder).status_code == 404


def test_a_fund_outage_is_a_503_with_retry_after(gateway: Gateway, holder: dict[str, str]) -> None:
    gateway.fund.fail("insurance_status", unavailable(Source.FUND, "GetInsuranceStatus"))
    answer = gateway.client.get(DOCUMENT, headers=holder)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"


# --- the document itself -------------------------------------------------------------------------------------


def test_the_fonts_are_embedded_so_no_system_font_is_needed() -> None:
    reader = PdfReader(io.BytesIO(render_policy_extract(extract())))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts.values()]
    assert len(descriptors) == 2  # regular and bold
    assert all("/FontFile2" in descriptor for descriptor in descriptors)
    assert all("DejaVuSans" in str(descriptor["/FontName"]) for descriptor in descriptors)


def test_the_metadata_names_the_document_not_the_person() -> None:
    metadata = PdfReader(io.BytesIO(render_policy_extract(extract()))).metadata
    assert metadata is not None
    assert metadata.title == "Выписка о полисе ОМС"
    assert not any("Иванова" in str(value) or ENP in str(value) for value in metadata.values())


def test_the_extract_says_when_it_was_made_in_moscow_time() -> None:
    # 09:30 UTC is 12:30 in Moscow; the document says which time it is.
    text = " ".join(pdf_text(render_policy_extract(extract())).split())
    assert "Выписка сформирована 24.11.2026 12:30 по московскому времени (Europe/Moscow)" in text
    assert "UTC" not in text


def test_a_demonstration_stacks_extract_is_marked_and_still_scans() -> None:
    data = render_policy_extract(replace(extract(), demo=True))
    text = " ".join(pdf_text(data).split())
    assert "ДЕМО" in text
    assert "не является документом об обязательном медицинском страховании" in text
    assert qr_codes(data) == [ENP], "the mark leaves the QR code readable"
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def test_a_real_extract_carries_no_demonstration_mark() -> None:
    assert "ДЕМО" not in pdf_text(render_policy_extract(extract()))


def test_the_gateway_marks_extracts_when_demo_mark_is_set(gateway: Gateway, holder: dict[str, str]) -> None:
    assert "ДЕМО" not in pdf_text(gateway.client.get(DOCUMENT, headers=holder).data)
    found = gateway.app.extensions["epolicy"]
    gateway.app.extensions["epolicy"] = replace(found, settings=replace(found.settings, demo_mark=True))
    assert "ДЕМО" in pdf_text(gateway.client.get(DOCUMENT, headers=holder).data)


def test_rendering_a_pdf_logs_nothing_of_the_font_subsetter(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    render_policy_extract(extract())
    chatter = [record for record in caplog.records if record.name.startswith("fontTools")]
    assert [record for record in chatter if record.levelno < logging.WARNING] == []


def test_an_expired_policy_prints_its_status_and_end_date() -> None:
    expired = replace(POLICY, status=PolicyStatus.EXPIRED, valid_to=date(2025, 12, 31))
    text = pdf_text(render_policy_extract(extract(expired)))
    assert "срок действия истёк" in text
    assert "31.12.2025" in text


def test_a_restriction_is_printed_for_the_holder_to_act_on() -> None:
    restricted = replace(POLICY, restrictions=(Restriction("BIRTH_CERTIFICATE_AGE", "Нужно переоформить полис"),))
    assert "Нужно переоформить полис" in pdf_text(render_policy_extract(extract(restricted)))


def test_an_insurer_missing_from_the_reference_data_is_printed_by_its_code() -> None:
    text = pdf_text(render_policy_extract(replace(extract(), insurer_name=None, region_name=None)))
    assert "77001" in text
    assert INSURER not in text


def test_a_long_name_wraps_and_the_qr_code_still_reads() -> None:
    long_name = replace(POLICY.holder, last_name="Римская-Корсакова-Преображенская", middle_name="Константиновна")
    data = render_policy_extract(extract(replace(POLICY, holder=long_name)))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "Константиновна" in pdf_text(data)
    assert qr_codes(data) == [ENP]
