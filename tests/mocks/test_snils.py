"""The mocks' one СНИЛС algorithm (mocks/snils.py), used by the fund and the OAuth server alike."""

from __future__ import annotations

import pytest

from mocks import snils


@pytest.mark.parametrize(("written", "digits"), [("112-233-445 95", "11223344595"), ("010-242-368 77", "01024236877")])
def test_snils_with_valid_check_number_is_accepted(written: str, digits: str) -> None:
    assert snils.parse(written) == digits


def test_snils_with_wrong_check_number_is_refused() -> None:
    assert snils.parse("010-242-368 00") is None
    assert not snils.is_valid("01024236800")


def test_snils_up_to_001_001_998_is_not_checked() -> None:
    assert snils.is_valid("00100199800")
    assert snils.is_valid("00000000100")
    assert not snils.is_valid("00100199900")
    assert snils.is_valid("00100199965")


@pytest.mark.parametrize("digits", ["00000000000", "00000000042"])
def test_all_zeros_snils_is_refused(digits: str) -> None:
    assert not snils.is_well_formed(digits)
    assert not snils.is_valid(digits)
    assert snils.parse(f"000-000-000 {digits[9:]}") is None


@pytest.mark.parametrize("written", ["１１２-２３３-４４５ ９５", "١١٢٢٣٣٤٤٥٩٥"])
def test_snils_of_other_digits_than_ascii_is_not_parsed(written: str) -> None:
    # The contract's c:Snils is [0-9]{11}: nothing else may be taken for a number.
    assert snils.parse(written) is None
    assert not snils.is_valid(written.replace("-", "").replace(" ", ""))


def test_check_number_of_100_and_101_is_00() -> None:
    assert snils.check_number("920000003") == "00"
    assert snils.check_number("920000020") == "00"
