"""Identity and residence documents: their series and number patterns, their dates and their validity by age."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from gateway.domain.identifiers import fold_compatible
from gateway.domain.model import Document, DocumentType, Violation

DT = DocumentType

PASSPORT_FROM_AGE = 14
# The temporary identity card (form 2П) stands in for a passport being issued or replaced: it too is from 14.
TEMPORARY_IDENTITY_CARD_FROM_AGE = PASSPORT_FROM_AGE
# A passport must be replaced at 20 and at 45; it stays valid for 90 days after that birthday while the new one is
# made (Положение о паспорте гражданина РФ).
PASSPORT_REPLACEMENT_AGES = (20, 45)
PASSPORT_GRACE = timedelta(days=90)
# A child's birth certificate is accepted until 14 years and 30 days (DOMAIN.md, 326-ФЗ art. 10).
BIRTH_CERTIFICATE_UNTIL_AGE = 14
BIRTH_CERTIFICATE_GRACE = timedelta(days=30)

# Documents that only exist with an expiry date: they are what allows the holder to stay in Russia.
STAY_DOCUMENTS = frozenset(
    {
        DT.RESIDENCE_PERMIT,
        DT.TEMPORARY_RESIDENCE_PERMIT,
        DT.REFUGEE_CERTIFICATE,
        DT.REFUGEE_APPLICATION_CERTIFICATE,
        DT.TEMPORARY_ASYLUM_CERTIFICATE,
        DT.LABOUR_CONTRACT_EAEU,
    }
)
# Documents that identify a refugee or an asylum seeker and allow their stay at once.
REFUGEE_DOCUMENTS = frozenset(
    {DT.REFUGEE_CERTIFICATE, DT.REFUGEE_APPLICATION_CERTIFICATE, DT.TEMPORARY_ASYLUM_CERTIFICATE}
)

_ROMAN = r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
# Where no official pattern is known the gateway is lenient: letters and digits, and the registry decides.
_FREE_SERIES = re.compile(r"[0-9A-ZА-ЯЁ]{1,10}")
_FREE_NUMBER = re.compile(r"[0-9A-ZА-ЯЁ][0-9A-ZА-ЯЁ/-]{0,19}")


@dataclass(frozen=True)
class DocumentPattern:
    """How the series and number of one type of document are written (after normalisation)."""

    number: re.Pattern[str]
    series: re.Pattern[str] | None = None
    series_required: bool = False


PATTERNS: dict[DocumentType, DocumentPattern] = {
    DT.PASSPORT_RF: DocumentPattern(
        number=re.compile(r"[0-9]{6}"), series=re.compile(r"[0-9]{4}"), series_required=True
    ),
    # The lookahead keeps an empty Roman numeral ("-МЮ") out.
    DT.BIRTH_CERTIFICATE_RF: DocumentPattern(
        number=re.compile(r"[0-9]{6}"),
        series=re.compile(rf"(?=[IVXLCDM]){_ROMAN}-[А-ЯЁ]{{2}}"),
        series_required=True,
    ),
    DT.FOREIGN_PASSPORT: DocumentPattern(number=re.compile(r"[0-9A-Z]{1,20}"), series=_FREE_SERIES),
    # The blanks of the residence permit (приказ МВД России от 03.06.2020 № 399) carry series 82 (a foreigner's)
    # or 83 (a stateless person's) and a 7-digit number; older ones may lack the series.
    DT.RESIDENCE_PERMIT: DocumentPattern(number=re.compile(r"[0-9]{7}"), series=re.compile(r"[0-9]{2}")),
    # A foreigner's temporary residence permit is a stamp in the passport with the number of the decision, so no
    # fixed pattern; a refugee certificate's blank pattern was not found in a source: both lenient.
    DT.TEMPORARY_RESIDENCE_PERMIT: DocumentPattern(number=_FREE_NUMBER, series=_FREE_SERIES),
    DT.REFUGEE_CERTIFICATE: DocumentPattern(number=_FREE_NUMBER, series=_FREE_SERIES),
    DT.REFUGEE_APPLICATION_CERTIFICATE: DocumentPattern(number=_FREE_NUMBER, series=_FREE_SERIES),
    DT.TEMPORARY_ASYLUM_CERTIFICATE: DocumentPattern(number=_FREE_NUMBER, series=_FREE_SERIES),
    # The temporary identity card (form 2П) has a number of the issuing office's own numbering.
    DT.TEMPORARY_IDENTITY_CARD_RF: DocumentPattern(number=_FREE_NUMBER),
    # A labour contract is numbered by the employer as it likes.
    DT.LABOUR_CONTRACT_EAEU: DocumentPattern(number=_FREE_NUMBER),
}

# Letters people type from the other alphabet because they look the same.
_ROMAN_LOOKALIKES = str.maketrans("ІХСМ", "IXCM")
_CYRILLIC_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014]\s*")


def normalize_series(type_: DocumentType, series: str | None) -> str | None:
    """The series as the registry writes it: "45 10" → "4510", "iv-мю" → "IV-МЮ"; blank → None."""
    # The contracts' samples write a passport's series as 4 digits, "4510": the printed space is not part of it.
    # Full-width digits and letters become the plain characters the patterns expect.
    if series is None or not series.strip():
        return None
    text = fold_compatible(series).strip().upper()
    if type_ is DT.BIRTH_CERTIFICATE_RF:
        roman, dash, letters = _DASHES.sub("-", text).partition("-")
        if dash:
            return roman.translate(_ROMAN_LOOKALIKES) + "-" + letters.translate(_CYRILLIC_LOOKALIKES)
        return text
    return "".join(text.split())


def normalize_number(number: str) -> str:
    """The number without spaces, letters in capitals, full-width digits as ASCII."""
    return "".join(fold_compatible(number).split()).upper()


def normalize_document(document: Document) -> Document:
    """The document with its series and number written the registry's way; done once, where a document enters."""
    return replace(
        document,
        series=normalize_series(document.type, document.series),
        number=normalize_number(document.number),
    )


def anniversary(birth_date: date, years: int) -> date:
    """The day a person turns `years` old; 29 February falls on 28 February in other years (ГК РФ art. 192)."""
    # A term in years ends on the same month and day (п. 1); a month without that day ends on its last day (п. 3).
    # The mocks count the same way, written apart (mocks/calendar.py).
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return date(birth_date.year + years, 2, 28)


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on the day."""
    years = day.year - birth_date.year
    return years if anniversary(birth_date, years) <= day else years - 1


def document_violations(document: Document, today: date, path: str, birth_date: date | None = None) -> list[Violation]:
    """Pattern, date and age rules of one document; age rules only when the holder's birth date is known."""
    found = format_violations(document, path)
    found += date_violations(document, today, path, birth_date)
    if birth_date is not None and birth_date <= today:
        if document.type is DT.PASSPORT_RF:
            found += passport_age_violations(document, birth_date, today, path)
        elif document.type is DT.BIRTH_CERTIFICATE_RF:
            found += birth_certificate_age_violations(birth_date, today, path)
        elif document.type is DT.TEMPORARY_IDENTITY_CARD_RF:
            found += temporary_identity_card_age_violations(document, birth_date, today, path)
    return found


def format_violations(document: Document, path: str) -> list[Violation]:
    """DOCUMENT_SERIES_FORMAT / DOCUMENT_NUMBER_FORMAT, or FIELD_REQUIRED for a missing series or number.

    The series and number are checked as they are, normalised (normalize_document) where the document entered.
    """
    pattern = PATTERNS[document.type]
    found: list[Violation] = []
    series = document.series or None
    if series is None:
        if pattern.series_required:
            found.append(Violation("FIELD_REQUIRED", f"{path}.series"))
    elif pattern.series is not None and not pattern.series.fullmatch(series):
        found.append(Violation("DOCUMENT_SERIES_FORMAT", f"{path}.series", (("type", document.type.value),)))
    number = document.number
    if not number:
        found.append(Violation("FIELD_REQUIRED", f"{path}.number"))
    elif not pattern.number.fullmatch(number):
        found.append(Violation("DOCUMENT_NUMBER_FORMAT", f"{path}.number", (("type", document.type.value),)))
    return found


def date_violations(document: Document, today: date, path: str, birth_date: date | None = None) -> list[Violation]:
    """Issue date not in the future nor before birth; expiry after issue; stay documents in force."""
    found: list[Violation] = []
    if document.issue_date > today:
        found.append(Violation("DOCUMENT_ISSUE_DATE_IN_FUTURE", f"{path}.issue_date"))
    if birth_date is not None and document.issue_date < birth_date:
        found.append(Violation("DOCUMENT_ISSUE_DATE_BEFORE_BIRTH", f"{path}.issue_date"))
    expiry = document.expiry_date
    if expiry is not None and expiry < document.issue_date:
        found.append(Violation("FIELD_INVALID", f"{path}.expiry_date", (("rule", "expiry_before_issue"),)))
    if document.type in STAY_DOCUMENTS:
        if expiry is None:
            found.append(Violation("FIELD_REQUIRED", f"{path}.expiry_date"))
        elif expiry < today:
            found.append(
                Violation("RESIDENCE_DOCUMENT_EXPIRED", f"{path}.expiry_date", (("expiry_date", expiry.isoformat()),))
            )
    elif expiry is not None and document.issue_date <= expiry < today:
        # A foreign passport, or a temporary identity card, past the date written in it identifies no one.
        found.append(Violation("DOCUMENT_EXPIRED", f"{path}.expiry_date", (("expiry_date", expiry.isoformat()),)))
    return found


def passport_age_violations(document: Document, birth_date: date, today: date, path: str) -> list[Violation]:
    """PASSPORT_UNDER_14 for a holder or an issue before 14; PASSPORT_EXPIRED_BY_AGE past 20 or 45 + 90 days."""
    fourteen = anniversary(birth_date, PASSPORT_FROM_AGE)
    if today < fourteen:
        return [Violation("PASSPORT_UNDER_14", f"{path}.type")]
    if document.issue_date < birth_date:
        return []  # DOCUMENT_ISSUE_DATE_BEFORE_BIRTH says it; an age at issue would be meaningless.
    if document.issue_date < fourteen:
        # Not a passport that could have been issued to this person: the age rules below would only add noise.
        return [Violation("PASSPORT_UNDER_14", f"{path}.issue_date", (("rule", "issued_before_14"),))]
    for age in PASSPORT_REPLACEMENT_AGES:
        birthday = anniversary(birth_date, age)
        # Valid through the 90th day after the birthday; a passport issued on or after it needs no replacement.
        if document.issue_date < birthday and today > birthday + PASSPORT_GRACE:
            return [Violation("PASSPORT_EXPIRED_BY_AGE", f"{path}.issue_date", (("replacement_age", str(age)),))]
    return []


def temporary_identity_card_age_violations(
    document: Document, birth_date: date, today: date, path: str
) -> list[Violation]:
    """DOCUMENT_NOT_ALLOWED_FOR_CATEGORY for a temporary identity card (form 2П) of a holder under 14, or issued
    before 14: it is issued in place of a passport."""
    fourteen = anniversary(birth_date, TEMPORARY_IDENTITY_CARD_FROM_AGE)
    details = (("category", "citizen"), ("rule", "temporary_identity_card_from_14"))
    if today < fourteen:
        return [Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", f"{path}.type", details)]
    if birth_date <= document.issue_date < fourteen:
        return [Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", f"{path}.issue_date", details)]
    return []


def birth_certificate_age_violations(birth_date: date, today: date, path: str) -> list[Violation]:
    """BIRTH_CERTIFICATE_AGE once the holder is older than 14 years and 30 days."""
    limit = anniversary(birth_date, BIRTH_CERTIFICATE_UNTIL_AGE) + BIRTH_CERTIFICATE_GRACE
    if today > limit:
        return [Violation("BIRTH_CERTIFICATE_AGE", f"{path}.type")]
    return []


def stay_document(identity: Document, residence: Document | None) -> Document | None:
    """The document that allows a non-citizen to stay: the residence document, or an identity document that is one."""
    if residence is not None:
        return residence
    return identity if identity.type in STAY_DOCUMENTS else None
