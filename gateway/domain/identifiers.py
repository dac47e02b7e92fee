"""Personal identifiers and their check digits: СНИЛС, ИНН, ЕНП (DOMAIN.md, "Identifiers").

Every identifier is normalised once, where it enters the gateway (normalize_identifier); the checks here take it as
it will be sent on, so what passes a check is exactly what the registry gets.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.ru import inn

from gateway.domain.model import Sex, Violation

# Numbers up to 001-001-998 were issued before check numbers existed, so theirs are not verified.
SNILS_UNCHECKED_UP_TO = 1_001_998

# ASCII digits only, as the contracts' patterns are: `[0-9]` never matches the digits of other scripts.
_SNILS_DIGITS = re.compile(r"[0-9]{11}")
_ENP = re.compile(r"[0-9]{16}")
_PERSON_INN = re.compile(r"[0-9]{12}")


def fold_compatible(text: str) -> str:
    """NFKC, character by character: full-width digits and letters become ASCII ("１２" → "12")."""
    # A sign whose compatibility form is several characters stays as typed: NFKC would turn "№ 123" into "No 123",
    # a number with letters the user never wrote, which a lenient pattern might then accept.
    return "".join(folded if len(folded := unicodedata.normalize("NFKC", char)) == 1 else char for char in text)


def normalize_identifier(text: str) -> str:
    """A number as typed, in the registry's form: NFKC (full-width digits become ASCII), then without the spaces
    and dashes written between groups ("112-233-445 95" → "11223344595")."""
    # Only separators go: a letter or a stray sign stays, so the check refuses the number instead of guessing it.
    return "".join(char for char in fold_compatible(text) if not (char.isspace() or unicodedata.category(char) == "Pd"))


def snils_check_number(first_nine: str) -> str:
    """The two-digit check number of a СНИЛС from its first nine digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    # 100 and 101, and a remainder of 100, are all written "00".
    return f"{total:02d}" if total < 100 else "00"


def snils_violations(value: str, field: str = "person.snils") -> list[Violation]:
    """SNILS_FORMAT unless 11 digits other than 000-000-000, SNILS_CHECKSUM unless the check number matches (small
    numbers excepted)."""
    if not _SNILS_DIGITS.fullmatch(value):
        return [Violation("SNILS_FORMAT", field)]
    digits = value
    # Below the small numbers: 000-000-000 is nobody's, though no check number would refuse it.
    if int(digits[:9]) == 0:
        return [Violation("SNILS_FORMAT", field, (("reason", "zero"),))]
    # python-stdnum's СНИЛС would refuse the small numbers, hence the rule written out here.
    if int(digits[:9]) <= SNILS_UNCHECKED_UP_TO:
        return []
    if snils_check_number(digits[:9]) != digits[9:]:
        return [Violation("SNILS_CHECKSUM", field)]
    return []


def inn_violations(value: str, field: str = "person.inn") -> list[Violation]:
    """INN_INVALID unless a person's 12-digit ИНН with valid check digits."""
    # A 10-digit ИНН is an organisation's: valid on its own, but not a person's.
    if not _PERSON_INN.fullmatch(value):
        return [Violation("INN_INVALID", field, (("reason", "format"),))]
    try:
        inn.validate(value)
    except ValidationError:
        return [Violation("INN_INVALID", field, (("reason", "checksum"),))]
    return []


def enp_check_digit(body: str) -> str:
    """The ISO/HL7 27931 Mod10 check digit of a digit string (the last digit of an ЕНП over its first 15)."""
    # HL7 Mod10 over the body equals the Luhn check digit appended to it.
    return luhn.calc_check_digit(body)


def enp_violations(value: str, field: str = "enp") -> list[Violation]:
    """ENP_FORMAT unless 16 digits, ENP_CHECKSUM unless its check digit matches."""
    if not _ENP.fullmatch(value):
        return [Violation("ENP_FORMAT", field)]
    if not _luhn_valid(value):
        return [Violation("ENP_CHECKSUM", field)]
    return []


@functools.lru_cache(maxsize=4096)
def _luhn_valid(digits: str) -> bool:
    """python-stdnum's Luhn check, remembered: every read of a policy checks its ЕНП, mostly the same few again."""
    return bool(luhn.is_valid(digits))


def enp_facet(birth_date: date, sex: Sex) -> str:
    """The 8 digits of birth date and sex an ЕНП carries after the fund code."""
    if birth_date.year <= 1950:
        month = birth_date.month + 20
    elif birth_date.year <= 2000:
        month = birth_date.month + 40
    else:
        month = birth_date.month
    day = birth_date.day + (50 if sex is Sex.MALE else 0)
    plain = f"{month:02d}{str(birth_date.year)[::-1]}{day:02d}"
    return "".join(str(9 - int(digit)) for digit in plain)
