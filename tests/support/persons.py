"""Анна Иванова, the example applicant of API.md, as the domain model has her, and her active policy."""

from __future__ import annotations

from datetime import date

from gateway.domain.model import Document, DocumentType, Holder, Person, Policy, PolicyStatus, Sex

ENP = "7754900882000015"
SNILS = "11223344595"
INN = "500100732259"
PASSPORT = Document(DocumentType.PASSPORT_RF, "123456", date(2010, 6, 1), "4510", issuer="ОВД района Арбат г. Москвы")
ANNA = Person(
    last_name="Иванова",
    first_name="Анна",
    middle_name="Сергеевна",
    birth_date=date(1990, 5, 17),
    sex=Sex.FEMALE,
    birth_place="г. Москва",
    citizenship="RUS",
    snils=SNILS,
    inn=INN,
    identity_document=PASSPORT,
)


def active_policy(
    enp: str = ENP, region_code: str = "77", insurer_code: str = "77001", person: Person = ANNA
) -> Policy:
    """An electronic policy, active since 2020, of `person`."""
    holder = Holder(person.last_name, person.first_name, person.birth_date, person.sex, person.middle_name)
    return Policy(
        enp=enp,
        status=PolicyStatus.ACTIVE,
        insurer_code=insurer_code,
        region_code=region_code,
        policy_form="electronic",
        valid_from=date(2020, 1, 1),
        holder=holder,
    )


POLICY = active_policy()


INSURER = "АО «Столичная медицинская страховая компания»"
