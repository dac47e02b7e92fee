"""What the mock registry knows: insurers, persons, their policies and the events of those policies.

Every value is frozen: the registry replaces a person's record on a change, so a record handed out is never
altered under the reader's feet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mocks.calendar import anniversary

CITIZENSHIP_RF = "RUS"
STATELESS = "stateless"
REFUGEE_DOCUMENTS = frozenset(
    {"refugee_certificate", "refugee_application_certificate", "temporary_asylum_certificate"}
)
PERMITS = frozenset({"residence_permit", "temporary_residence_permit"})
# Documents that allow the stay: their expiry is RESIDENCE_DOCUMENT_EXPIRED, any other document's DOCUMENT_EXPIRED.
STAY_DOCUMENTS = REFUGEE_DOCUMENTS | PERMITS | {"labour_contract_eaeu"}
CHILD_DOCUMENT_AGE = 14


@dataclass(frozen=True)
class Document:
    """An identity or residence document."""

    type: str
    number: str
    issue_date: date
    series: str | None = None
    issuer: str | None = None
    expiry_date: date | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the document: type, series and number without spaces, in capitals."""
        return self.type, "".join((self.series or "").split()).upper(), "".join(self.number.split()).upper()


@dataclass(frozen=True)
class StatedPerson:
    """A person as an application states them."""

    last_name: str
    first_name: str
    birth_date: date
    sex: str
    citizenship: str
    identity_document: Document
    middle_name: str | None = None
    birth_place: str | None = None
    category: str | None = None
    snils: str | None = None
    inn: str | None = None
    residence_document: Document | None = None


@dataclass(frozen=True)
class InsurerRecord:
    """An insurer (СМО) and its admission to work in ОМС in one region."""

    code: str
    name: str
    region_code: str
    admitted_from: date
    admitted_to: date | None = None
    policy_forms: tuple[str, ...] = ()
    phone: str | None = None
    website: str | None = None

    def admitted_on(self, day: date, region_code: str) -> bool:
        """Tell whether the insurer may take applications in the region on the day."""
        ended = self.admitted_to is not None and day > self.admitted_to
        return region_code == self.region_code and self.admitted_from <= day and not ended


@dataclass(frozen=True)
class PolicyRecord:
    """One policy of a person: an insurer, a form and a period; the ЕНП stays with the person."""

    enp: str
    insurer_code: str
    region_code: str
    policy_form: str
    valid_from: date
    valid_to: date | None = None
    annulled_from: date | None = None

    def status_on(self, day: date) -> str:
        """Return the PolicyStatus of the policy on a day."""
        if self.annulled_from is not None and day >= self.annulled_from:
            return "annulled"
        if day < self.valid_from:
            return "pending"
        if self.valid_to is not None and day > self.valid_to:
            return "expired"
        return "active"


@dataclass(frozen=True)
class PolicyEvent:
    """Something that happened to a person's policy, as GetPolicyHistory lists it."""

    date: date
    type: str
    insurer_code: str
    region_code: str
    policy_form: str
    reason: str | None = None
    registration_id: str | None = None


@dataclass(frozen=True)
class Holder:
    """The policy holder's names, birth date and sex, as printed on the policy."""

    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    sex: str


@dataclass(frozen=True)
class Restriction:
    """Something that limits a policy or asks its holder to act."""

    code: str
    description: str
    since: date | None = None


@dataclass(frozen=True)
class PolicyView:
    """A policy as read on a day: its status, holder and restrictions."""

    policy: PolicyRecord
    status: str
    holder: Holder
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class PersonRecord:
    """A person as the registry knows them, with every policy and event (oldest first)."""

    enp: str
    last_name: str
    first_name: str
    birth_date: date
    sex: str
    citizenship: str
    identity_document: Document
    middle_name: str | None = None
    birth_place: str | None = None
    category: str | None = None
    snils: str | None = None
    residence_document: Document | None = None
    death_date: date | None = None
    previous_documents: tuple[Document, ...] = ()
    policies: tuple[PolicyRecord, ...] = ()
    events: tuple[PolicyEvent, ...] = ()

    @property
    def current_policy(self) -> PolicyRecord | None:
        """The latest policy, if any."""
        return self.policies[-1] if self.policies else None

    @property
    def is_citizen(self) -> bool:
        """Citizens of the RF are insured without an end date."""
        return self.citizenship == CITIZENSHIP_RF

    def holder(self) -> Holder:
        """The holder block of this person's policies."""
        return Holder(self.last_name, self.first_name, self.middle_name, self.birth_date, self.sex)

    def view(self, policy: PolicyRecord, on: date) -> PolicyView:
        """Read one of this person's policies on a day."""
        return PolicyView(policy, policy.status_on(on), self.holder(), self.restrictions_on(on))

    def restrictions_on(self, on: date) -> tuple[Restriction, ...]:
        """What the holder must act on by the day."""
        restrictions: list[Restriction] = []
        if self.identity_document.type == "birth_certificate_rf":
            fourteenth = anniversary(self.birth_date, CHILD_DOCUMENT_AGE)
            if on >= fourteenth:
                restrictions.append(
                    Restriction(
                        "BIRTH_CERTIFICATE_AGE",
                        "Держателю исполнилось 14 лет: нужно переоформить полис по паспорту гражданина РФ.",
                        fourteenth,
                    )
                )
        return tuple(restrictions)


@dataclass(frozen=True)
class Application:
    """A RegisterPolicy request: an application an insurer carried out."""

    message_id: str
    application_date: date
    type: str
    reason: str
    person: StatedPerson
    insurer_code: str
    region_code: str
    policy_form: str
    enp: str | None = None
    insurer_application_id: str | None = None


@dataclass(frozen=True)
class Registration:
    """The registry's answer to one registered application, kept to answer its MessageId again."""

    message_id: str
    registration_id: str
    registered_at: datetime
    enp: str
    enp_assigned: bool
    policy: PolicyView


@dataclass(frozen=True)
class Verification:
    """The registry's answer to VerifyPerson: a new person, or a known one with their current policy."""

    outcome: str
    enp: str | None = None
    policy: PolicyView | None = None


def stay_document(citizenship: str, identity: Document, residence: Document | None) -> Document | None:
    """What allows a non-citizen to stay, and so bounds their policy: the residence document, else an identity
    document that is one, a refugee's or asylum seeker's certificate or a stateless person's permit."""
    if residence is not None:
        return residence
    if identity.type in REFUGEE_DOCUMENTS:
        return identity
    # A stateless person's residence permit (or temporary residence permit) is their identity document as well
    # (115-ФЗ ст. 2, 10): it is both, and the policy ends with it.
    if citizenship == STATELESS and identity.type in PERMITS:
        return identity
    return None
