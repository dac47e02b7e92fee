"""The СНИЛС as every mock checks it: the fund's control, the OAuth server's test users and QA tokens (DOMAIN.md).

Written again rather than imported from the gateway: the mocks share nothing with it but the contracts.
"""

from __future__ import annotations

import re

# Numbers up to 001-001-998 were issued before check numbers existed, so theirs are not verified.
UNCHECKED_UP_TO = 1_001_998

# "112-233-445 95", "11223344595" and the variants people type in between.
_WRITTEN = re.compile(r"(\d{3})-?(\d{3})-?(\d{3})[ -]?(\d{2})", re.ASCII)
_DIGITS = re.compile(r"[0-9]{11}")


def check_number(first_nine: str) -> str:
    """The two-digit check number of a СНИЛС from its first nine digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    # 100 and 101, and a remainder of 100, are all written "00".
    return f"{total:02d}" if total < 100 else "00"


def is_well_formed(snils: str) -> bool:
    """11 digits that can be a number at all: 000-000-000 is nobody's."""
    return _DIGITS.fullmatch(snils) is not None and int(snils[:9]) != 0


def is_valid(snils: str) -> bool:
    """Well formed, with the right check number (numbers up to 001-001-998 are not checked)."""
    if not is_well_formed(snils):
        return False
    return int(snils[:9]) <= UNCHECKED_UP_TO or check_number(snils[:9]) == snils[9:]


def parse(written: str) -> str | None:
    """The 11 digits of a valid СНИЛС as people write it ("112-233-445 95"), else None."""
    match = _WRITTEN.fullmatch(written.strip())
    if match is None:
        return None
    digits = "".join(match.groups())
    return digits if is_valid(digits) else None
