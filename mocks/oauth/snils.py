"""SNILS (the pension-insurance number) format and check digits, for test users and QA tokens."""

from __future__ import annotations

import re

# "112-233-445 95", "11223344595" and the variants people type in between.
_SNILS_PATTERN = re.compile(r"^(\d{3})-?(\d{3})-?(\d{3})[ -]?(\d{2})$")


def snils_check_digits(first_nine: str) -> str:
    """Return the two check digits for the first nine digits of a SNILS."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    # Both 100 and 101 (and a remainder of 100) are written as "00".
    return f"{total:02d}" if total < 100 else "00"


def normalize_snils(value: str) -> str | None:
    """Return the 11 digits of a well-formed SNILS with valid check digits, else None."""
    match = _SNILS_PATTERN.fullmatch(value.strip())
    if match is None:
        return None
    digits = "".join(match.groups())
    if snils_check_digits(digits[:9]) != digits[9:]:
        return None
    return digits
