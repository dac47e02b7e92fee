"""СНИЛС, ИНН and ЕНП with the values of DOMAIN.md."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.identifiers import (
    enp_check_digit,
    enp_facet,
    enp_violations,
    inn_violations,
    normalize_identifier,
    snils_check_number,
    snils_violations,
)
from gateway.domain.model import Sex, Violation


def codes(violations: list[Violation]) -> list[str]:
    return [violation.code for violation in violations]


# --- СНИЛС ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("112-233-445 95", "11223344595"),
        ("11223344595", "11223344595"),
        ("112 233 445 95", "11223344595"),
        (" 112-233-445-95 ", "11223344595"),
        ("112\u2011233\u2011445\u00a095", "11223344595"),
    ],
)
def test_normalizes_a_snils_written_with_spaces_and_hyphens(text: str, digits: str) -> None:
    assert normalize_identifier(text) == digits


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("１１２２３３４４５９５", "11223344595"),  # full-width digits, as a phone's keyboard may give them
        ("５００１ ００７３ ２２５９", "500100732259"),
        ("112－233－445\u300095", "11223344595"),  # full-width hyphen and ideographic space
    ],
)
def test_normalizes_full_width_digits_to_ascii(text: str, digits: str) -> None:
    assert normalize_identifier(text) == digits


@pytest.mark.parametrize("text", ["112-233-445 9a", "112.233.445 95", "١١٢٢٣٣٤٤٥٩٥", "СНИЛС 11223344595"])
def test_leaves_anything_but_separators_for_the_check_to_refuse(text: str) -> None:
    assert codes(snils_violations(normalize_identifier(text))) == ["SNILS_FORMAT"]


@pytest.mark.parametrize("snils", ["11223344595", "01024236877"])
def test_accepts_a_snils_with_a_valid_check_number(snils: str) -> None:
    assert snils_violations(snils) == []


def test_refuses_a_snils_with_a_wrong_check_number() -> None:
    assert snils_violations("01024236800") == [Violation("SNILS_CHECKSUM", "person.snils")]


@pytest.mark.parametrize("snils", ["1122334459", "1122334459X", "", "112-233-445 95", "１１２２３３４４５９５"])
def test_refuses_a_snils_that_is_not_eleven_ascii_digits(snils: str) -> None:
    # The check takes the number as it will be sent on: normalised where it entered, or refused.
    assert snils_violations(snils) == [Violation("SNILS_FORMAT", "person.snils")]


@pytest.mark.parametrize("snils", ["00000000000", "00000000042"])
def test_all_zeros_snils_is_refused(snils: str) -> None:
    # Below the small numbers, whose check number nobody verifies, 000-000-000 is no number at all.
    assert snils_violations(snils) == [Violation("SNILS_FORMAT", "person.snils", (("reason", "zero"),))]


def test_names_the_field_it_was_given() -> None:
    assert snils_violations("01024236800", "person.changes.snils")[0].field == "person.changes.snils"


@pytest.mark.parametrize("snils", ["00100199800", "00100199899", "00000000142"])
def test_does_not_verify_the_check_number_of_a_small_snils(snils: str) -> None:
    assert snils_violations(snils) == []


def test_verifies_the_check_number_from_the_first_number_above_the_small_ones() -> None:
    first_nine = "001001999"
    check = snils_check_number(first_nine)
    wrong = "00" if check != "00" else "01"
    assert snils_violations(first_nine + check) == []
    assert codes(snils_violations(first_nine + wrong)) == ["SNILS_CHECKSUM"]


@pytest.mark.parametrize(
    ("first_nine", "check"),
    [
        ("112233445", "95"),  # S = 95 < 100: S itself
        ("010242368", "77"),
        ("000000011", "03"),  # small S keeps its leading zero
    ],
)
def test_computes_the_snils_check_number(first_nine: str, check: str) -> None:
    assert snils_check_number(first_nine) == check


def test_writes_a_sum_of_100_or_101_as_00() -> None:
    # 9*9 + 8*2 + 3*1 = 100; 9*9 + 8*2 + 2*2 = 101
    assert snils_check_number("920000003") == "00"
    assert snils_check_number("920000020") == "00"


def test_takes_a_large_sum_modulo_101_and_writes_a_remainder_of_100_as_00() -> None:
    assert snils_check_number("999999999") == f"{405 % 101:02d}"  # S = 405 → 1
    # S = 201 → 201 mod 101 = 100 → 00: 9*9 + 8*9 + 7*4 + 6*2 + 5*1 + 4*0 + ... = 81 + 72 + 28 + 12 + 5 + 3 = 201
    assert snils_check_number("994210100") == "00"


# --- ИНН -----------------------------------------------------------------------------------------------------


def test_accepts_a_persons_twelve_digit_inn() -> None:
    assert inn_violations("500100732259") == []


def test_refuses_a_persons_inn_with_wrong_check_digits() -> None:
    assert codes(inn_violations("500100732258")) == ["INN_INVALID"]


def test_refuses_an_organisations_ten_digit_inn_for_a_person() -> None:
    assert inn_violations("7707083893") == [Violation("INN_INVALID", "person.inn", (("reason", "format"),))]


@pytest.mark.parametrize("inn", ["50010073225", "5001007322591", "50010073225a", ""])
def test_refuses_an_inn_that_is_not_twelve_digits(inn: str) -> None:
    assert codes(inn_violations(inn)) == ["INN_INVALID"]


# --- ЕНП -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "check"), [("12345", "5"), ("401", "0"), ("9999", "4"), ("99999999", "8")])
def test_computes_the_hl7_mod10_check_digit_of_the_standard_test_values(body: str, check: str) -> None:
    assert enp_check_digit(body) == check


def test_the_enp_of_the_domain_example_is_its_fund_facet_serial_and_check_digit() -> None:
    body = "77" + enp_facet(date(1990, 5, 17), Sex.FEMALE) + "00001"
    assert body + enp_check_digit(body) == "7754900882000015"


def test_accepts_an_enp_with_a_valid_check_digit() -> None:
    assert enp_violations("7754900882000015") == []


def test_refuses_an_enp_with_a_wrong_check_digit() -> None:
    assert enp_violations("7754900882000016") == [Violation("ENP_CHECKSUM", "enp")]


@pytest.mark.parametrize("enp", ["775490088200001", "77549008820000155", "7754 9008 8200 0015", "775490088200001X", ""])
def test_refuses_an_enp_that_is_not_sixteen_digits(enp: str) -> None:
    assert enp_violations(enp) == [Violation("ENP_FORMAT", "enp")]


@pytest.mark.parametrize(
    ("birth_date", "sex", "facet"),
    [
        # month 05+40 → 45, year 1990 → 0991, day 17 → 17; 45099117 → 9 − each digit
        (date(1990, 5, 17), Sex.FEMALE, "54900882"),
        # a man: day + 50 → 67
        (date(1990, 5, 17), Sex.MALE, "54900832"),
        # born ≤ 1950: month + 20 → 29 (Sep), year 1948 → 8491, day 03 → 53 for a man
        (date(1948, 9, 3), Sex.MALE, "70150846"),
        # born 1951: month + 40
        (date(1951, 1, 1), Sex.FEMALE, "58840898"),
        # born 2000: still + 40
        (date(2000, 12, 31), Sex.FEMALE, "47999768"),
        # born from 2001: the month as it is
        (date(2001, 12, 31), Sex.FEMALE, "87899768"),
        (date(2012, 3, 20), Sex.FEMALE, "96789779"),
    ],
)
def test_computes_the_facet_of_birth_date_and_sex(birth_date: date, sex: Sex, facet: str) -> None:
    assert enp_facet(birth_date, sex) == facet
