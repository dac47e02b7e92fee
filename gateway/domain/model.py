"""The values of the domain: persons, documents, applications, policies. Plain Python, frozen, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Relation(StrEnum):
    """Whom the citizen applies for."""

    SELF = "self"
    CHILD = "child"
    SPOUSE = "spouse"
    WARD = "ward"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class DocumentType(StrEnum):
    """Documents a person may present (API.md, and those 326-ФЗ art. 10 adds); the XSD has the same names."""

    PASSPORT_RF = "passport_rf"
    BIRTH_CERTIFICATE_RF = "birth_certificate_rf"
    FOREIGN_PASSPORT = "foreign_passport"
    RESIDENCE_PERMIT = "residence_permit"
    TEMPORARY_RESIDENCE_PERMIT = "temporary_residence_permit"
    REFUGEE_CERTIFICATE = "refugee_certificate"
    # While a passport is being made or replaced, the МВД issues a temporary identity card (form 2П).
    TEMPORARY_IDENTITY_CARD_RF = "temporary_identity_card_rf"
    # A person who asked for refugee status holds a certificate of the pending application; one granted
    # temporary asylum, a temporary asylum certificate: both identify them and allow the stay.
    REFUGEE_APPLICATION_CERTIFICATE = "refugee_application_certificate"
    TEMPORARY_ASYLUM_CERTIFICATE = "temporary_asylum_certificate"
    # A worker from an EAEU state is insured on the labour contract, for its term (326-ФЗ art. 10 p. 1).
    LABOUR_CONTRACT_EAEU = "labour_contract_eaeu"


class InsuredCategory(StrEnum):
    """Who the person is under 326-ФЗ art. 10 (the XSD's c:InsuredCategory)."""

    CITIZEN = "citizen"
    FOREIGNER_PERMANENT = "foreigner_permanent"
    FOREIGNER_TEMPORARY = "foreigner_temporary"
    STATELESS_PERMANENT = "stateless_permanent"
    STATELESS_TEMPORARY = "stateless_temporary"
    REFUGEE = "refugee"
    EAEU_WORKER = "eaeu_worker"
    HIGHLY_QUALIFIED_SPECIALIST = "highly_qualified_specialist"


class AuthorityType(StrEnum):
    """What makes someone the representative of the insured person."""

    PARENT = "parent"  # named as a parent on the child's birth certificate
    GUARDIANSHIP_DECISION = "guardianship_decision"  # act of the guardianship authority (опека, попечительство)
    POWER_OF_ATTORNEY = "power_of_attorney"  # notarised power of attorney, e.g. for a spouse


class PolicyForm(StrEnum):
    """The forms the gateway issues a policy in."""

    ELECTRONIC = "electronic"
    PAPER = "paper"
    PLASTIC = "plastic"


class RegistryPolicyForm(StrEnum):
    """The forms the registry records (c:PolicyForm): those the gateway issues, and the legacy universal card."""

    ELECTRONIC = PolicyForm.ELECTRONIC.value
    PAPER = PolicyForm.PAPER.value
    PLASTIC = PolicyForm.PLASTIC.value
    UNIVERSAL_CARD = "universal_card"  # a policy within the universal electronic card, no longer issued


class PolicyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    ANNULLED = "annulled"
    PENDING = "pending"


class ApplicationKind(StrEnum):
    NEW = "new"
    REPLACEMENT = "replacement"


class ApplicationStatus(StrEnum):
    """accepted → verifying → issuing → issued | rejected; cancelled before issuing."""

    ACCEPTED = "accepted"
    VERIFYING = "verifying"
    ISSUING = "issuing"
    ISSUED = "issued"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """No further step will change it."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({ApplicationStatus.ISSUED, ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED})


class ReplacementReason(StrEnum):
    PERSONAL_DATA_CHANGE = "personal_data_change"
    RELOCATION = "relocation"
    INSURER_CHANGE = "insurer_change"
    EXPIRY_RENEWAL = "expiry_renewal"
    LOST = "lost"
    DAMAGED = "damaged"


class RegistryApplicationType(StrEnum):
    """Application types of the registry (contracts/common/common.xsd)."""

    INSURER_CHOICE = "insurer_choice"
    REISSUE = "reissue"
    DUPLICATE = "duplicate"
    DATA_CHANGE = "data_change"


class RegistryReason(StrEnum):
    """Reasons of the registry's applications (contracts/common/common.xsd)."""

    FIRST_CHOICE = "first_choice"
    OWN_WISH = "own_wish"
    RELOCATION = "relocation"
    INSURER_CONTRACT_ENDED = "insurer_contract_ended"
    PERSONAL_DATA_CHANGE = "personal_data_change"
    DATA_INACCURACY = "data_inaccuracy"
    EXPIRY_RENEWAL = "expiry_renewal"
    LOSS = "loss"
    WEAR = "wear"


class InsurerState(StrEnum):
    """What became of an application at the insurer (the insurer contract's i:ApplicationState)."""

    ACCEPTED = "accepted"
    EXECUTING = "executing"
    EXECUTED = "executed"
    REJECTED = "rejected"


class Source(StrEnum):
    """The system that refused."""

    GATEWAY = "gateway"
    FUND = "fund"
    INSURER = "insurer"


@dataclass(frozen=True)
class Document:
    """An identity or residence document."""

    type: DocumentType
    number: str
    issue_date: date
    series: str | None = None
    issuer: str | None = None
    expiry_date: date | None = None


@dataclass(frozen=True)
class Person:
    """A person as an application states them. `snils` is 11 digits without separators."""

    last_name: str
    first_name: str
    birth_date: date
    sex: Sex
    citizenship: str  # ISO 3166-1 alpha-3, or "stateless"
    identity_document: Document
    middle_name: str | None = None
    birth_place: str | None = None
    snils: str | None = None
    inn: str | None = None
    residence_document: Document | None = None
    category: InsuredCategory | None = None  # stated by the applicant; else derived from citizenship and documents

    @property
    def is_citizen(self) -> bool:
        """A citizen of the Russian Federation."""
        return self.citizenship == "RUS"


@dataclass(frozen=True)
class PersonChanges:
    """The fields a replacement changes; None means unchanged."""

    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    birth_place: str | None = None
    snils: str | None = None
    identity_document: Document | None = None
    residence_document: Document | None = None


@dataclass(frozen=True)
class Authority:
    """The document that makes the representative one; a parent's is the child's birth certificate itself."""

    type: AuthorityType
    number: str | None = None
    issue_date: date | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class Representative:
    """Who applies for a child, a ward or a spouse: their identity and their authority."""

    last_name: str
    first_name: str
    birth_date: date
    identity_document: Document
    authority: Authority
    middle_name: str | None = None
    snils: str | None = None


@dataclass(frozen=True)
class Contacts:
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class NewPolicyRequest:
    """What a citizen asks for in `POST /api/v1/applications`."""

    relation: Relation
    person: Person
    region_code: str
    insurer_code: str
    policy_form: PolicyForm
    contacts: Contacts | None = None
    representative: Representative | None = None


@dataclass(frozen=True)
class ReplacementRequest:
    """What a citizen asks for in `POST /api/v1/policies/{enp}/replacements`."""

    enp: str
    reason: ReplacementReason
    policy_form: PolicyForm
    person: PersonChanges = field(default_factory=PersonChanges)
    insurer_code: str | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class Violation:
    """A broken rule, before the catalogue gives it words: a reason code and the JSON path it concerns."""

    code: str
    field: str | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reason:
    """One refusal as the user sees it; every code is in contracts/rejections.yaml."""

    code: str
    source: Source
    message: str
    recommendation: str
    field: str | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Holder:
    last_name: str
    first_name: str
    birth_date: date
    sex: Sex
    middle_name: str | None = None


@dataclass(frozen=True)
class Restriction:
    code: str
    description: str
    since: date | None = None


@dataclass(frozen=True)
class Policy:
    """A policy as the fund's registry knows it."""

    enp: str
    status: PolicyStatus
    insurer_code: str
    region_code: str
    policy_form: RegistryPolicyForm  # may be a legacy form the gateway does not issue (universal_card)
    valid_from: date
    holder: Holder
    valid_to: date | None = None
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Insurer:
    """An insurer admitted in a region."""

    code: str
    name: str
    region_code: str
    policy_forms: tuple[RegistryPolicyForm, ...]
    phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class IssuedPolicy:
    """The policy an application produced."""

    enp: str
    insurer_code: str
    valid_from: date
    valid_to: date | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One transition of an application, or a retried step (`note` says which)."""

    status: ApplicationStatus
    at: datetime
    note: str | None = None
