"""The ИИН as the fund checks it: 12 digits, a birth date, a century digit and the check digit (DOMAIN.md)."""

from __future__ import annotations

from datetime import date

# Written again rather than imported: the mocks share nothing with the gateway but the contracts.
_WEIGHTS = (tuple(range(1, 12)), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))
_CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def check_digit(first_eleven: str) -> int | None:
    """The check digit over the first 11 digits, or None when both weightings give 10."""
    for weights in _WEIGHTS:
        remainder = sum(int(digit) * weight for digit, weight in zip(first_eleven, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def birth_date(iin: str) -> date | None:
    """The birth date of a 12-digit ИИН, or None when its date or century digit is impossible."""
    century = _CENTURIES.get(iin[6])
    if century is None:
        return None
    try:
        return date(century + int(iin[:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def is_valid(iin: str) -> bool:
    """Whether a 12-digit ИИН has a possible birth date and the right check digit."""
    if not (len(iin) == 12 and iin.isascii() and iin.isdigit()):  # "²" and "١" are digits to str.isdigit
        return False
    return birth_date(iin) is not None and check_digit(iin[:11]) == int(iin[11])
