"""Domain values to the contracts' elements and back, and SOAP element paths to the gateway's JSON paths.

Requests are built as zeep keyword values; answers come in as zeep objects read by attribute. Nothing zeep-made
leaves this module: every reader returns a domain value or raises InvalidAnswer.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from gateway.domain.eligibility import insured_category
from gateway.domain.model import (
    Document,
    DocumentType,
    Holder,
    Insurer,
    InsurerState,
    Person,
    Policy,
    PolicyStatus,
    RegistryPolicyForm,
    Relation,
    Representative,
    Restriction,
    Sex,
)
from gateway.domain.registry import (
    InsurerResult,
    RegistrationResult,
    RegistryPerson,
    TemporaryCertificate,
    Verification,
)

E = TypeVar("E", bound=StrEnum)


class InvalidAnswer(Exception):
    """An answer that breaks the contract or that the domain cannot hold: the back-end is at fault, retry later."""


# --- requests -----------------------------------------------------------------------------------------------


# Which c:InsuredCategory a residence document makes of a foreigner, and of a stateless person.
def document_payload(document: Document) -> dict[str, Any]:
    """A c:Document; its series and number were normalised where the gateway took them in, and go as they are."""
    return {
        "Type": document.type.value,
        "Series": document.series or None,
        "Number": document.number,
        "IssueDate": document.issue_date,
        "Issuer": document.issuer,
        "ExpiryDate": document.expiry_date,
    }


def representative_payload(representative: Representative, relation: Relation) -> dict[str, Any]:
    """An i2:Representative (insurer contract, version 2)."""
    authority = representative.authority
    return {
        "Relation": relation.value,
        "LastName": representative.last_name,
        "FirstName": representative.first_name,
        "MiddleName": representative.middle_name,
        "BirthDate": representative.birth_date,
        "Snils": representative.snils,
        "IdentityDocument": document_payload(representative.identity_document),
        "Authority": {
            "Type": authority.type.value,
            "Number": authority.number,
            "IssueDate": authority.issue_date,
            "Issuer": authority.issuer,
        },
    }


def person_payload(person: Person) -> dict[str, Any]:
    """A c:Person."""
    return {
        "LastName": person.last_name.strip(),
        "FirstName": person.first_name.strip(),
        "MiddleName": person.middle_name.strip() if person.middle_name else None,
        "BirthDate": person.birth_date,
        "Sex": person.sex.value,
        "BirthPlace": person.birth_place,
        "Citizenship": person.citizenship,
        "Category": category.value if (category := insured_category(person)) is not None else None,
        "Snils": person.snils or None,
        "Inn": person.inn,
        "IdentityDocument": document_payload(person.identity_document),
        "ResidenceDocument": document_payload(person.residence_document) if person.residence_document else None,
    }


# --- answers ------------------------------------------------------------------------------------------------


def read_holder(value: Any) -> Holder:
    """A c:Holder."""
    return Holder(
        last_name=value.LastName,
        first_name=value.FirstName,
        middle_name=value.MiddleName,
        birth_date=read_date(value.BirthDate),
        sex=read_enum(Sex, value.Sex),
    )


def read_policy(value: Any) -> Policy:
    """A c:Policy."""
    return Policy(
        enp=value.Enp,
        status=read_enum(PolicyStatus, value.Status),
        insurer_code=value.InsurerCode,
        region_code=value.RegionCode,
        policy_form=read_enum(RegistryPolicyForm, value.PolicyForm),
        valid_from=read_date(value.ValidFrom),
        valid_to=value.ValidTo,
        holder=read_holder(value.Holder),
        restrictions=tuple(
            Restriction(code=item.Code, description=item.Description, since=item.Since)
            for item in value.Restriction or ()
        ),
    )


def read_document(value: Any) -> Document:
    """A c:Document."""
    return Document(
        type=read_enum(DocumentType, value.Type),
        series=value.Series,
        number=value.Number,
        issue_date=read_date(value.IssueDate),
        issuer=value.Issuer,
        expiry_date=value.ExpiryDate,
    )


def read_verification(answer: Any) -> Verification:
    """An f:VerifyPersonResponse."""
    known = answer.Outcome == "known"
    if known and answer.Enp is None:
        raise InvalidAnswer("a known person without an ЕНП")
    return Verification(
        known=known,
        enp=answer.Enp,
        policy=read_policy(answer.Policy) if answer.Policy is not None else None,
    )


def read_registry_person(value: Any) -> RegistryPerson:
    """An f:PersonRecord."""
    person = Person(
        last_name=value.LastName,
        first_name=value.FirstName,
        middle_name=value.MiddleName,
        birth_date=read_date(value.BirthDate),
        sex=read_enum(Sex, value.Sex),
        citizenship=value.Citizenship,
        identity_document=read_document(value.IdentityDocument),
        snils=value.Snils,
    )
    return RegistryPerson(
        person=person,
        enp=value.Enp,
        death_date=value.DeathDate,
        policy=read_policy(value.Policy) if value.Policy is not None else None,
    )


def read_registration(answer: Any) -> RegistrationResult:
    """An f:RegisterPolicyResponse."""
    return RegistrationResult(
        registration_id=answer.RegistrationId,
        enp=answer.Enp,
        enp_assigned=bool(answer.EnpAssigned),
        policy=read_policy(answer.Policy),
    )


def read_insurer(value: Any) -> Insurer:
    """An f:Insurer."""
    return Insurer(
        code=value.Code,
        name=value.Name,
        region_code=value.RegionCode,
        policy_forms=tuple(read_enum(RegistryPolicyForm, form) for form in value.PolicyForm or ()),
        phone=value.Phone,
        website=value.Website,
    )


def read_insurer_result(value: Any) -> InsurerResult:
    """An i:IssueResult."""
    certificate = value.TemporaryCertificate
    return InsurerResult(
        insurer_application_id=value.InsurerApplicationId,
        state=read_enum(InsurerState, value.State),
        policy_form=read_enum(RegistryPolicyForm, value.PolicyForm),
        valid_from=read_date(value.ValidFrom),
        valid_to=value.ValidTo,
        temporary_certificate=(
            TemporaryCertificate(number=certificate.Number, valid_to=read_date(certificate.ValidTo))
            if certificate is not None
            else None
        ),
    )


def read_date(value: Any) -> date:
    """A required xs:date as zeep read it, or InvalidAnswer."""
    # zeep reads an xs:date it cannot parse as None; the XSD check makes that rare, this makes it loud.
    if not isinstance(value, date):
        raise InvalidAnswer("a required date is missing or unreadable")
    return value


def read_enum(kind: type[E], value: Any) -> E:
    """A value of an enumeration, or InvalidAnswer when the back-end sent one the gateway does not know."""
    try:
        return kind(value)
    except ValueError:
        # The XSD allows more document types than the gateway accepts from users (temporary_identity_card_rf...).
        raise InvalidAnswer(f"{kind.__name__} has no value {value!r}") from None


# --- field paths --------------------------------------------------------------------------------------------

# Elements of a request that the gateway's own request (API.md) has, at the top level and in a person.
_TOP_LEVEL = frozenset({"Person", "Enp", "InsurerCode", "RegionCode", "PolicyForm", "Representative"})
_PERSON = frozenset(
    {
        "LastName",
        "FirstName",
        "MiddleName",
        "BirthDate",
        "Sex",
        "BirthPlace",
        "Citizenship",
        "Snils",
        "Inn",
        "IdentityDocument",
        "ResidenceDocument",
    }
)
_DOCUMENTS = frozenset({"IdentityDocument", "ResidenceDocument"})
_DOCUMENT = frozenset({"Type", "Series", "Number", "IssueDate", "Issuer", "ExpiryDate"})
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def field_path(soap_path: str | None) -> str | None:
    """The gateway's JSON path for a BusinessFault's Field ("Person/Snils" → "person.snils"), or None if it has none."""
    if not soap_path:
        return None
    # Tolerate a leading slash, prefixes ("c:Snils") and positions ("Restriction[2]") some services add.
    steps = [step.split(":")[-1].split("[")[0] for step in soap_path.strip().strip("/").split("/")]
    if not _is_known(steps):
        return None
    return ".".join(_CAMEL_BOUNDARY.sub("_", step).lower() for step in steps)


_REPRESENTATIVE = frozenset({"LastName", "FirstName", "MiddleName", "BirthDate", "Snils", "IdentityDocument"})
_AUTHORITY = frozenset({"Type", "Number", "IssueDate", "Issuer"})


def _is_known(steps: list[str]) -> bool:
    head, rest = steps[0], steps[1:]
    if head not in _TOP_LEVEL:
        return False
    if head == "Representative" and rest:
        return _is_known_of_representative(rest)
    if head != "Person" or not rest:
        return not rest
    if rest[0] not in _PERSON:
        return False
    if len(rest) == 1:
        return True
    return rest[0] in _DOCUMENTS and len(rest) == 2 and rest[1] in _DOCUMENT


def _is_known_of_representative(rest: list[str]) -> bool:
    # The representative's fields have the same names in the request's JSON (representative.authority.type).
    if rest[0] == "Authority":
        return len(rest) == 1 or (len(rest) == 2 and rest[1] in _AUTHORITY)
    if rest[0] == "IdentityDocument":
        return len(rest) == 1 or (len(rest) == 2 and rest[1] in _DOCUMENT)
    return len(rest) == 1 and rest[0] in _REPRESENTATIVE
