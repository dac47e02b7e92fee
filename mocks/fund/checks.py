"""Format-logical control of the registry: check numbers, document patterns and dates, as a ЕРЗЛ segment refuses them.

Each check raises `BusinessFault` with the catalogue reason and the path of the element concerned, relative to
the request element (VerifyPersonRequest and RegisterPolicyRequest both carry `Person` and `Enp`).
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn

from mocks import snils as snils_rules
from mocks.fund.model import STAY_DOCUMENTS, Document, StatedPerson, stay_document
from mocks.soap import BusinessFault

_ROMAN = r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
_SERIES = {
    # A passport's series is printed "45 10" but kept as 4 digits, "4510", as the contracts' samples write it.
    # [0-9], not \d: \d would take the digits of other scripts for a series.
    "passport_rf": re.compile(r"[0-9]{4}"),
    "birth_certificate_rf": re.compile(rf"(?=[IVXLCDM])({_ROMAN})-[А-ЯЁ]{{2}}"),
}
_NUMBER = {
    "passport_rf": re.compile(r"[0-9]{6}"),
    "birth_certificate_rf": re.compile(r"[0-9]{6}"),
}


def enp_is_valid(enp: str) -> bool:
    """Tell whether a 16-digit ЕНП has a valid check digit (HL7 Mod10 over 15 digits = Luhn over 16)."""
    return len(enp) == 16 and enp.isascii() and enp.isdigit() and luhn.is_valid(enp)


def enp_facet(birth_date: date, sex: str) -> str:
    """Return the 8-digit facet of birth date and sex that an ЕНП carries after the fund code."""
    month = birth_date.month + (20 if birth_date.year <= 1950 else 40 if birth_date.year <= 2000 else 0)
    day = birth_date.day + (50 if sex == "male" else 0)
    plain = f"{month:02d}{str(birth_date.year)[::-1]}{day:02d}"
    return "".join(str(9 - int(digit)) for digit in plain)


def make_enp(region_code: str, birth_date: date, sex: str, serial: int) -> str:
    """Return the ЕНП for a fund code, facet and serial, with its check digit."""
    body = f"{region_code}{enp_facet(birth_date, sex)}{serial:05d}"
    return body + luhn.calc_check_digit(body)


def check_person(person: StatedPerson, enp: str | None, today: date, application_date: date | None = None) -> None:
    """Run the format-logical control over an applicant; raise the first refusal found."""
    if application_date is not None and application_date > today:
        raise BusinessFault(
            "APPLICATION_DATE_INVALID",
            f"Дата заявления {application_date:%d.%m.%Y} позже сегодняшней.",
            field="ApplicationDate",
        )
    on = application_date or today
    if person.birth_date > today:
        raise BusinessFault("BIRTH_DATE_IN_FUTURE", "Дата рождения в будущем.", field="Person/BirthDate")
    if person.snils is not None and not snils_rules.is_well_formed(person.snils):
        raise BusinessFault("SNILS_FORMAT", "Номер СНИЛС 000-000-000 не присваивается.", field="Person/Snils")
    if person.snils is not None and not snils_rules.is_valid(person.snils):
        raise BusinessFault("SNILS_CHECKSUM", "Контрольное число СНИЛС не совпадает.", field="Person/Snils")
    if enp is not None and not enp_is_valid(enp):
        raise BusinessFault("ENP_CHECKSUM", "Контрольная цифра ЕНП не совпадает.", field="Enp")
    _check_document(person.identity_document, "Person/IdentityDocument", person.birth_date, on)
    if person.residence_document is not None:
        _check_document(person.residence_document, "Person/ResidenceDocument", person.birth_date, on)
    if person.category == "highly_qualified_specialist":
        raise BusinessFault(
            "HIGHLY_QUALIFIED_SPECIALIST",
            "Высококвалифицированные специалисты и члены их семей не подлежат страхованию по ОМС.",
            field="Person/Category",
        )
    _check_residence(person, on)


def _check_document(document: Document, path: str, birth_date: date, on: date) -> None:
    series_pattern = _SERIES.get(document.type)
    if series_pattern is not None and not series_pattern.fullmatch(document.series or ""):
        raise BusinessFault(
            "DOCUMENT_SERIES_FORMAT",
            f"Серия документа «{document.series or ''}» не соответствует шаблону.",
            field=f"{path}/Series",
        )
    number_pattern = _NUMBER.get(document.type)
    if number_pattern is not None and not number_pattern.fullmatch(document.number):
        raise BusinessFault(
            "DOCUMENT_NUMBER_FORMAT",
            f"Номер документа «{document.number}» не соответствует шаблону.",
            field=f"{path}/Number",
        )
    if document.issue_date < birth_date:
        raise BusinessFault(
            "DOCUMENT_ISSUE_DATE_BEFORE_BIRTH",
            "Документ выдан раньше даты рождения.",
            field=f"{path}/IssueDate",
        )
    expiry = document.expiry_date
    if document.type not in STAY_DOCUMENTS and expiry is not None and document.issue_date <= expiry < on:
        raise BusinessFault(
            "DOCUMENT_EXPIRED", f"Срок действия документа истёк {expiry:%d.%m.%Y}.", field=f"{path}/ExpiryDate"
        )


def _check_residence(person: StatedPerson, on: date) -> None:
    if person.citizenship == "RUS":
        return
    stay = stay_document(person.citizenship, person.identity_document, person.residence_document)
    if stay is None:
        raise BusinessFault(
            "RESIDENCE_DOCUMENT_REQUIRED",
            "Иностранному гражданину или лицу без гражданства нужен документ о праве проживания в РФ.",
            field="Person/ResidenceDocument",
        )
    path = "Person/IdentityDocument" if stay is person.identity_document else "Person/ResidenceDocument"
    if stay.expiry_date is not None and stay.expiry_date < on:
        raise BusinessFault(
            "RESIDENCE_DOCUMENT_EXPIRED",
            f"Срок действия документа о праве проживания истёк {stay.expiry_date:%d.%m.%Y}.",
            field=f"{path}/ExpiryDate",
        )
