"""What of an application was read, when its body could be read only in part.

A draft holds the fields that were read, None where a field was absent. `unread` names the fields that were given
but could not be read, or were required and missing: the schema has said so already, and no rule that reads one of
them runs (eligibility.py). So a citizen hears every reason at once, those of the form's shape and those of its
meaning, rather than in waves. A whole application is the draft in which nothing is unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gateway.domain.changes import has_changes
from gateway.domain.model import (
    Authority,
    Document,
    DocumentType,
    InsuredCategory,
    NewPolicyRequest,
    Person,
    PersonChanges,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
)

CITIZENSHIP_RF = "RUS"


@dataclass(frozen=True)
class DocumentDraft:
    """An identity or residence document as read."""

    type: DocumentType | None = None
    series: str | None = None
    number: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    unread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, document: Document) -> DocumentDraft:
        """A document read whole."""
        return cls(document.type, document.series, document.number, document.issue_date, document.expiry_date)

    def whole(self) -> Document | None:
        """The document, when every field of it was read."""
        if self.unread or self.type is None or self.number is None or self.issue_date is None:
            return None
        return Document(self.type, self.number, self.issue_date, series=self.series, expiry_date=self.expiry_date)


@dataclass(frozen=True)
class PersonDraft:
    """A person as read: the insured person of an application, or the changes of a replacement."""

    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    citizenship: str | None = None
    snils: str | None = None
    inn: str | None = None
    identity_document: DocumentDraft | None = None
    residence_document: DocumentDraft | None = None
    category: InsuredCategory | None = None
    unread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, person: Person) -> PersonDraft:
        """A person read whole."""
        residence = person.residence_document
        return cls(
            last_name=person.last_name,
            first_name=person.first_name,
            middle_name=person.middle_name,
            birth_date=person.birth_date,
            birth_place=person.birth_place,
            citizenship=person.citizenship,
            snils=person.snils,
            inn=person.inn,
            identity_document=DocumentDraft.of(person.identity_document),
            residence_document=None if residence is None else DocumentDraft.of(residence),
            category=person.category,
        )

    @classmethod
    def of_changes(cls, changes: PersonChanges) -> PersonDraft:
        """The changes of a replacement read whole (None: unchanged)."""
        identity, residence = changes.identity_document, changes.residence_document
        return cls(
            last_name=changes.last_name,
            first_name=changes.first_name,
            middle_name=changes.middle_name,
            birth_date=changes.birth_date,
            birth_place=changes.birth_place,
            snils=changes.snils,
            identity_document=None if identity is None else DocumentDraft.of(identity),
            residence_document=None if residence is None else DocumentDraft.of(residence),
        )

    @property
    def is_citizen(self) -> bool:
        """A citizen of the Russian Federation, as far as was read."""
        return self.citizenship == CITIZENSHIP_RF

    @property
    def read_whole(self) -> bool:
        """Nothing of the person, nor of their documents, was left unread."""
        documents = (self.identity_document, self.residence_document)
        return not self.unread and all(document is None or not document.unread for document in documents)


@dataclass(frozen=True)
class RepresentativeDraft:
    """Who applies for another person, as read."""

    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    snils: str | None = None
    identity_document: DocumentDraft | None = None
    authority: Authority | None = None
    unread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, representative: Representative) -> RepresentativeDraft:
        """A representative read whole."""
        return cls(
            last_name=representative.last_name,
            first_name=representative.first_name,
            middle_name=representative.middle_name,
            birth_date=representative.birth_date,
            snils=representative.snils,
            identity_document=DocumentDraft.of(representative.identity_document),
            authority=representative.authority,
        )


@dataclass(frozen=True)
class ApplicationDraft:
    """`POST /api/v1/applications` as read."""

    relation: Relation | None = None
    person: PersonDraft | None = None
    region_code: str | None = None
    insurer_code: str | None = None
    representative: RepresentativeDraft | None = None
    unread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, request: NewPolicyRequest) -> ApplicationDraft:
        """An application read whole."""
        representative = request.representative
        return cls(
            relation=request.relation,
            person=PersonDraft.of(request.person),
            region_code=request.region_code,
            insurer_code=request.insurer_code,
            representative=None if representative is None else RepresentativeDraft.of(representative),
        )


@dataclass(frozen=True)
class ReplacementDraft:
    """`POST /api/v1/policies/{enp}/replacements` as read; `enp` None when the path's was checked already."""

    enp: str | None = None
    reason: ReplacementReason | None = None
    person: PersonDraft = field(default_factory=PersonDraft)
    changes_stated: bool = False  # the body states some change of personal data, read or not
    insurer_code: str | None = None
    region_code: str | None = None
    unread: frozenset[str] = frozenset()

    @classmethod
    def of(cls, request: ReplacementRequest) -> ReplacementDraft:
        """A replacement read whole."""
        return cls(
            enp=request.enp,
            reason=request.reason,
            person=PersonDraft.of_changes(request.person),
            changes_stated=has_changes(request.person),
            insurer_code=request.insurer_code,
            region_code=request.region_code,
        )
