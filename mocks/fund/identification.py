"""Who an applicant is: the registry's person search by ЕНП, СНИЛС, document, and name + birth date + document."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from mocks.fund.model import Document, PersonRecord, StatedPerson
from mocks.soap import BusinessFault


def same_name(left: str | None, right: str | None) -> bool:
    """Compare names the way the registry does: case-insensitively, with Ё read as Е."""
    return _folded(left) == _folded(right)


def identify(persons: Sequence[PersonRecord], stated: StatedPerson, enp: str | None) -> PersonRecord | None:
    """Return the registry's record of the applicant, None for a new person; raise on any conflict."""
    if enp is not None:
        person: PersonRecord | None = _with_enp(persons, stated, enp)
    else:
        person = _without_enp(persons, stated)
    if person is not None and person.death_date is not None:
        raise BusinessFault(
            "PERSON_DECEASED",
            f"По данным регистра застрахованный умер {person.death_date:%d.%m.%Y}.",
            field="Person",
        )
    return person


def by_enp(persons: Sequence[PersonRecord], enp: str) -> PersonRecord | None:
    """The person with this ЕНП."""
    return next((person for person in persons if person.enp == enp), None)


def by_snils(persons: Sequence[PersonRecord], snils: str | None) -> PersonRecord | None:
    """The person with this СНИЛС."""
    if snils is None:
        return None
    return next((person for person in persons if person.snils == snils), None)


def by_document(persons: Sequence[PersonRecord], stated: StatedPerson) -> PersonRecord | None:
    """The person whose current identity document is the stated one."""
    key = stated.identity_document.key
    return next((person for person in persons if person.identity_document.key == key), None)


def by_name_and_document(
    persons: Sequence[PersonRecord], names: tuple[str, str, str | None], birth_date: date, document: Document
) -> PersonRecord | None:
    """The person with these names (last, first, middle if given) and birth date who holds or held the document."""
    last, first, middle = names
    for person in persons:
        same = (
            same_name(person.last_name, last)
            and same_name(person.first_name, first)
            and (middle is None or same_name(person.middle_name, middle))
            and person.birth_date == birth_date
        )
        documents = (person.identity_document, *person.previous_documents)
        if same and any(held.key == document.key for held in documents):
            return person
    return None


def _with_enp(persons: Sequence[PersonRecord], stated: StatedPerson, enp: str) -> PersonRecord:
    # Names may differ from the record (a re-issue after a name change states the new ones), but a СНИЛС or a
    # document that is someone else's may not.
    owner = by_enp(persons, enp)
    if owner is None:
        raise BusinessFault("ENP_NOT_FOUND", "ЕНП не найден в регистре.", field="Enp")
    snils_owner = by_snils(persons, stated.snils)
    document_owner = by_document(persons, stated)
    for other in (snils_owner, document_owner):
        if other is not None and other.enp != enp and _is_exactly(other, stated):
            raise BusinessFault(
                "ENP_OTHER_PERSON",
                "По СНИЛС и документу заявитель — другой застрахованный: указанный ЕНП ему не принадлежит.",
                field="Enp",
            )
    if snils_owner is not None and snils_owner.enp != enp:
        raise _snils_other_person()
    if document_owner is not None and document_owner.enp != enp:
        raise _document_other_person()
    return owner


def _without_enp(persons: Sequence[PersonRecord], stated: StatedPerson) -> PersonRecord | None:
    person = by_snils(persons, stated.snils)
    if person is not None:
        if not same_name(person.last_name, stated.last_name) and person.birth_date != stated.birth_date:
            raise _snils_other_person()
        _refuse_mismatch(person, stated)
        document_owner = by_document(persons, stated)
        if document_owner is not None and document_owner.enp != person.enp:
            raise _document_other_person()
        return person
    person = by_document(persons, stated)
    if person is not None:
        if not _is_described(person, stated):
            raise _document_other_person()
        _refuse_mismatch(person, stated)
        _refuse_other_snils(person, stated)
        return person
    names = (stated.last_name, stated.first_name, stated.middle_name)
    person = by_name_and_document(persons, names, stated.birth_date, stated.identity_document)
    if person is not None:
        _refuse_other_snils(person, stated)
    return person


def _is_described(person: PersonRecord, stated: StatedPerson) -> bool:
    # Whether the stated last name and birth date are this person's: the check that tells "someone else's
    # number" from "a typo in one field".
    return same_name(person.last_name, stated.last_name) or person.birth_date == stated.birth_date


def _is_exactly(person: PersonRecord, stated: StatedPerson) -> bool:
    return same_name(person.last_name, stated.last_name) and person.birth_date == stated.birth_date


def _first_difference(person: PersonRecord, stated: StatedPerson) -> str | None:
    pairs = (
        ("LastName", same_name(person.last_name, stated.last_name)),
        ("FirstName", same_name(person.first_name, stated.first_name)),
        ("MiddleName", same_name(person.middle_name, stated.middle_name)),
        ("BirthDate", person.birth_date == stated.birth_date),
        ("Sex", person.sex == stated.sex),
    )
    return next((name for name, same in pairs if not same), None)


def _refuse_mismatch(person: PersonRecord, stated: StatedPerson) -> None:
    difference = _first_difference(person, stated)
    if difference is not None:
        raise BusinessFault(
            "REGISTRY_DATA_MISMATCH",
            f"Сведения о застрахованном расходятся с регистром: {difference}.",
            field=f"Person/{difference}",
        )


def _refuse_other_snils(person: PersonRecord, stated: StatedPerson) -> None:
    if stated.snils is not None and person.snils is not None and stated.snils != person.snils:
        raise BusinessFault(
            "REGISTRY_DATA_MISMATCH",
            "СНИЛС расходится с указанным в регистре для этого документа.",
            field="Person/Snils",
        )


def _snils_other_person() -> BusinessFault:
    return BusinessFault("SNILS_OTHER_PERSON", "СНИЛС принадлежит другому застрахованному.", field="Person/Snils")


def _document_other_person() -> BusinessFault:
    return BusinessFault(
        "DOCUMENT_OTHER_PERSON",
        "Документ, удостоверяющий личность, принадлежит другому застрахованному.",
        field="Person/IdentityDocument",
    )


def _folded(name: str | None) -> str:
    return (name or "").strip().upper().replace("Ё", "Е")
