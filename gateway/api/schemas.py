"""marshmallow schemas: the shape of request bodies. The meaning is checked by the domain rules."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from gateway.domain.documents import normalize_document
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import (
    Authority,
    AuthorityType,
    Contacts,
    Document,
    DocumentType,
    InsuredCategory,
    NewPolicyRequest,
    Person,
    PersonChanges,
    PolicyForm,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Sex,
    Violation,
)

TOO_LONG = "FIELD_TOO_LONG"
EMPTY = "FIELD_REQUIRED"
REQUIRED_MESSAGES = {"Missing data for required field.", "Field may not be null."}


def text(max_length: int, **kwargs: Any) -> fields.String:
    """A non-empty string of at most `max_length` characters."""
    # An empty string is a field left unfilled, not one too long.
    limits = [validate.Length(min=1, error=EMPTY), validate.Length(max=max_length, error=TOO_LONG)]
    return fields.String(validate=limits, **kwargs)


def one_line(value: str) -> None:
    """Refuse line breaks (marshmallow's Regexp lets a trailing one through)."""
    if "\n" in value or "\r" in value:
        raise ValidationError("Must be a single line.")


def optional_text(max_length: int) -> fields.String:
    return text(max_length, required=False, allow_none=True, load_default=None)


def choice(enum: type[Any], **kwargs: Any) -> fields.String:
    """One of an enum's values."""
    return fields.String(validate=validate.OneOf([member.value for member in enum]), **kwargs)


def clean(value: str | None) -> str | None:
    """A name or place in one Unicode form (NFC), without stray spaces."""
    # Names and places are compared with the registry's records: one Unicode form, no stray spaces.
    return None if value is None else unicodedata.normalize("NFC", " ".join(value.split()))


class Strict(Schema):
    """Unknown fields are an error, not silently dropped: a typo must not lose data."""

    class Meta:
        unknown = RAISE


class DocumentSchema(Strict):
    type = choice(DocumentType, required=True)
    series = optional_text(20)
    number = text(30, required=True)
    issue_date = fields.Date(required=True)
    issuer = optional_text(250)
    expiry_date = fields.Date(required=False, allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Document:
        return normalize_document(
            Document(
                type=DocumentType(data["type"]),
                series=clean(data["series"]),
                number=data["number"].strip(),
                issue_date=data["issue_date"],
                issuer=clean(data["issuer"]),
                expiry_date=data["expiry_date"],
            )
        )


class PersonSchema(Strict):
    last_name = text(100, required=True)
    first_name = text(100, required=True)
    middle_name = optional_text(100)
    birth_date = fields.Date(required=True)
    sex = choice(Sex, required=True)
    birth_place = optional_text(250)
    citizenship = fields.String(required=True, validate=validate.Regexp(r"^([A-Z]{3}|stateless)$"))
    snils = optional_text(20)
    inn = optional_text(20)
    identity_document = fields.Nested(DocumentSchema, required=True)
    residence_document = fields.Nested(DocumentSchema, required=False, allow_none=True, load_default=None)
    category = choice(InsuredCategory, allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Person:
        return Person(
            last_name=clean(data["last_name"]) or "",
            first_name=clean(data["first_name"]) or "",
            middle_name=clean(data["middle_name"]),
            birth_date=data["birth_date"],
            sex=Sex(data["sex"]),
            birth_place=clean(data["birth_place"]),
            citizenship=data["citizenship"],
            snils=identifier(data["snils"]),
            inn=identifier(data["inn"]),
            identity_document=data["identity_document"],
            residence_document=data["residence_document"],
            category=None if data["category"] is None else InsuredCategory(data["category"]),
        )


class AuthoritySchema(Strict):
    """What makes the representative one: a parent (no document beyond the child's birth certificate), a
    guardianship decision or a power of attorney (with number and date)."""

    type = choice(AuthorityType, required=True)
    number = optional_text(50)
    issue_date = fields.Date(allow_none=True, load_default=None)
    issuer = optional_text(250)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Authority:
        return Authority(
            type=AuthorityType(data["type"]),
            number=None if data["number"] is None else data["number"].strip(),
            issue_date=data["issue_date"],
            issuer=clean(data["issuer"]),
        )


class RepresentativeSchema(Strict):
    """Who applies for a child, a ward or a spouse."""

    last_name = text(100, required=True)
    first_name = text(100, required=True)
    middle_name = optional_text(100)
    birth_date = fields.Date(required=True)
    snils = optional_text(20)
    identity_document = fields.Nested(DocumentSchema, required=True)
    authority = fields.Nested(AuthoritySchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Representative:
        return Representative(
            last_name=clean(data["last_name"]) or "",
            first_name=clean(data["first_name"]) or "",
            middle_name=clean(data["middle_name"]),
            birth_date=data["birth_date"],
            snils=identifier(data["snils"]),
            identity_document=data["identity_document"],
            authority=data["authority"],
        )


class PersonChangesSchema(Strict):
    last_name = optional_text(100)
    first_name = optional_text(100)
    middle_name = optional_text(100)
    birth_date = fields.Date(allow_none=True, load_default=None)
    sex = choice(Sex, allow_none=True, load_default=None)
    birth_place = optional_text(250)
    snils = optional_text(20)
    identity_document = fields.Nested(DocumentSchema, allow_none=True, load_default=None)
    residence_document = fields.Nested(DocumentSchema, allow_none=True, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> PersonChanges:
        return PersonChanges(
            last_name=clean(data["last_name"]),
            first_name=clean(data["first_name"]),
            middle_name=clean(data["middle_name"]),
            birth_date=data["birth_date"],
            sex=None if data["sex"] is None else Sex(data["sex"]),
            birth_place=clean(data["birth_place"]),
            snils=identifier(data["snils"]),
            identity_document=data["identity_document"],
            residence_document=data["residence_document"],
        )


class ContactsSchema(Strict):
    # `$` of a pattern also matches before a final line break: without `one_line` "+7...\n" would reach insurers.
    phone = fields.String(
        allow_none=True, load_default=None, validate=[validate.Regexp(r"^\+?[0-9]{10,15}$"), one_line]
    )
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=254, error=TOO_LONG))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Contacts:
        return Contacts(phone=data["phone"], email=data["email"])


class ApplicationSchema(Strict):
    """Body of `POST /api/v1/applications` (and of `validate`)."""

    relation = choice(Relation, required=True)
    person = fields.Nested(PersonSchema, required=True)
    region_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{2}$"))
    insurer_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{5}$"))
    policy_form = choice(PolicyForm, required=True)
    contacts = fields.Nested(ContactsSchema, allow_none=True, load_default=None)
    representative = fields.Nested(
        RepresentativeSchema,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Обязателен при relation child, ward, spouse; застрахованный младше 18 лет подаёт "
            "заявление только через законного представителя (relation child или ward)"
        },
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> NewPolicyRequest:
        return NewPolicyRequest(
            relation=Relation(data["relation"]),
            person=data["person"],
            region_code=data["region_code"],
            insurer_code=data["insurer_code"],
            policy_form=PolicyForm(data["policy_form"]),
            contacts=data["contacts"],
            representative=data["representative"],
        )


class ReplacementSchema(Strict):
    """Body of `POST /api/v1/policies/{enp}/replacements`; the ЕНП comes from the path."""

    reason = choice(ReplacementReason, required=True)
    person = fields.Nested(PersonChangesSchema, allow_none=True, load_default=None)
    insurer_code = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(r"^[0-9]{5}$"))
    region_code = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(r"^[0-9]{2}$"))
    policy_form = choice(PolicyForm, load_default=PolicyForm.ELECTRONIC.value)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # The ЕНП is in the path, so the request object is built by the view.
        return data


def replacement_request(enp: str, data: Mapping[str, Any]) -> ReplacementRequest:
    """Build the replacement request from the loaded body and the path's ЕНП."""
    return ReplacementRequest(
        enp=enp,
        reason=ReplacementReason(data["reason"]),
        policy_form=PolicyForm(data["policy_form"]),
        person=data["person"] or PersonChanges(),
        insurer_code=data["insurer_code"],
        region_code=data["region_code"],
    )


def identifier(value: str | None) -> str | None:
    """A СНИЛС or ИНН as the digits the registry keeps."""
    # "112-233-445 95" as printed on the card, or full-width digits from a phone's keyboard, become the digits the
    # registry keeps, here and only here: the domain checks them as they will be sent on.
    return None if value is None else normalize_identifier(value)


def violations_of(error: ValidationError) -> list[Violation]:
    """Schema errors as violations with the JSON path of each field."""
    found: list[Violation] = []
    _walk(error.messages, "", found)
    return found


def _walk(messages: Any, path: str, found: list[Violation]) -> None:
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "_schema":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            _walk(value, child, found)
        return
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        first = messages[0] if messages else ""
        found.append(Violation(_code(first), path or None))
        return
    if isinstance(messages, list):
        for item in messages:
            _walk(item, path, found)
        return
    found.append(Violation(_code(str(messages)), path or None))


def _code(message: str) -> str:
    if message in REQUIRED_MESSAGES or message == EMPTY:
        return "FIELD_REQUIRED"
    if message == TOO_LONG:
        return TOO_LONG
    return "FIELD_INVALID"
