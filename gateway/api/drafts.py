"""A body that broke the schema, read as far as it goes: the domain's rules still run on the fields that parsed.

marshmallow keeps what it could load of a body it refused (`ValidationError.valid_data`): whole domain objects
where a nested part loaded, plain values and mappings elsewhere. Read into the drafts of gateway/domain/drafts.py,
with the paths the schema refused as their unread fields, they let one answer carry every reason, those of the
shape and those of the meaning, without a reason that only follows from a field the schema refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from marshmallow import Schema

from gateway.api.schemas import ApplicationSchema, ReplacementSchema, clean, identifier
from gateway.domain.changes import has_changes
from gateway.domain.documents import normalize_number, normalize_series
from gateway.domain.drafts import (
    ApplicationDraft,
    DocumentDraft,
    PersonDraft,
    ReplacementDraft,
    RepresentativeDraft,
)
from gateway.domain.eligibility import check_application_draft, check_replacement_draft
from gateway.domain.model import (
    Authority,
    Document,
    DocumentType,
    InsuredCategory,
    Person,
    PersonChanges,
    Relation,
    ReplacementReason,
    Representative,
    Violation,
)
from gateway.domain.reference import Reference

E = TypeVar("E", bound=Enum)


def draft_violations(
    schema: Schema, data: Mapping[str, Any], refused: frozenset[str], today: date, reference: Reference
) -> list[Violation]:
    """The domain's violations on what `schema` loaded of a body (`data`) whose `refused` paths it refused."""
    if isinstance(schema, ApplicationSchema):
        return check_application_draft(application_draft(data, refused), today, reference)
    if isinstance(schema, ReplacementSchema):
        # The path's ЕНП was checked before the body was read.
        return check_replacement_draft(replacement_draft(data, refused), today, reference)
    return []


def application_draft(data: Mapping[str, Any], refused: frozenset[str]) -> ApplicationDraft:
    """What was read of a `POST /api/v1/applications` body."""
    return ApplicationDraft(
        relation=_choice(Relation, data.get("relation")),
        person=_person(data.get("person"), "person", refused),
        region_code=_text(data.get("region_code")),
        insurer_code=_text(data.get("insurer_code")),
        representative=_representative(data.get("representative"), "representative", refused),
        unread=_unread(refused, ""),
    )


def replacement_draft(data: Mapping[str, Any], refused: frozenset[str]) -> ReplacementDraft:
    """What was read of a `POST /api/v1/policies/{enp}/replacements` body."""
    person = data.get("person")
    changes = _changes(person, "person", refused)
    if isinstance(person, PersonChanges):
        stated = has_changes(person)
    else:
        stated = isinstance(person, Mapping) and any(value is not None for value in person.values())
    return ReplacementDraft(
        reason=_choice(ReplacementReason, data.get("reason")),
        person=changes,
        changes_stated=stated or not changes.read_whole,
        insurer_code=_text(data.get("insurer_code")),
        region_code=_text(data.get("region_code")),
        unread=_unread(refused, ""),
    )


def _unread(refused: frozenset[str], path: str) -> frozenset[str]:
    # The fields of the object at `path` that the schema refused as a whole (a nested object refused in part is
    # read in part, by its own draft).
    prefix = f"{path}." if path else ""
    names = (item[len(prefix) :] for item in refused if item.startswith(prefix))
    return frozenset(name for name in names if name and "." not in name)


def _person(value: Any, path: str, refused: frozenset[str]) -> PersonDraft | None:
    if isinstance(value, Person):
        return PersonDraft.of(value)
    if not isinstance(value, Mapping):
        return None
    return PersonDraft(
        **_changeable(value, path, refused),
        citizenship=_text(value.get("citizenship")),
        inn=identifier(_text(value.get("inn"))),
        category=_choice(InsuredCategory, value.get("category")),
    )


def _changes(value: Any, path: str, refused: frozenset[str]) -> PersonDraft:
    if isinstance(value, PersonChanges):
        return PersonDraft.of_changes(value)
    if not isinstance(value, Mapping):
        return PersonDraft()
    return PersonDraft(**_changeable(value, path, refused))


def _changeable(value: Mapping[str, Any], path: str, refused: frozenset[str]) -> dict[str, Any]:
    """The fields of a person that a replacement may change too, as far as they were read."""
    return {
        "last_name": clean(_text(value.get("last_name"))),
        "first_name": clean(_text(value.get("first_name"))),
        "middle_name": clean(_text(value.get("middle_name"))),
        "birth_date": _date(value.get("birth_date")),
        "birth_place": clean(_text(value.get("birth_place"))),
        "snils": identifier(_text(value.get("snils"))),
        "identity_document": _document(value.get("identity_document"), f"{path}.identity_document", refused),
        "residence_document": _document(value.get("residence_document"), f"{path}.residence_document", refused),
        "unread": _unread(refused, path),
    }


def _representative(value: Any, path: str, refused: frozenset[str]) -> RepresentativeDraft | None:
    if isinstance(value, Representative):
        return RepresentativeDraft.of(value)
    if not isinstance(value, Mapping):
        return None
    authority = value.get("authority")
    return RepresentativeDraft(
        last_name=clean(_text(value.get("last_name"))),
        first_name=clean(_text(value.get("first_name"))),
        middle_name=clean(_text(value.get("middle_name"))),
        birth_date=_date(value.get("birth_date")),
        snils=identifier(_text(value.get("snils"))),
        identity_document=_document(value.get("identity_document"), f"{path}.identity_document", refused),
        authority=authority if isinstance(authority, Authority) else None,
        unread=_unread(refused, path),
    )


def _document(value: Any, path: str, refused: frozenset[str]) -> DocumentDraft | None:
    if isinstance(value, Document):
        return DocumentDraft.of(value)
    if not isinstance(value, Mapping):
        return None
    kind = _choice(DocumentType, value.get("type"))
    series, number = _text(value.get("series")), _text(value.get("number"))
    # Written the registry's way, as a document that loads whole is (normalize_document).
    return DocumentDraft(
        type=kind,
        series=None if kind is None else normalize_series(kind, series),
        number=None if number is None else normalize_number(number),
        issue_date=_date(value.get("issue_date")),
        expiry_date=_date(value.get("expiry_date")),
        unread=_unread(refused, path),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _date(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _choice(enum: type[E], value: Any) -> E | None:
    try:
        return enum(value) if isinstance(value, str) else None
    except ValueError:
        return None
