"""Who may be insured with which documents (326-ФЗ art. 10), and the rules of an application decided without a back-end.

Every check collects all the broken rules it finds, so a citizen can correct the whole form at once; a rule that
only follows from another broken one (an age computed from a birth date in the future) is left out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.domain.documents import (
    REFUGEE_DOCUMENTS,
    STAY_DOCUMENTS,
    age_on,
    document_violations,
    format_violations,
    stay_document,
)
from gateway.domain.drafts import (
    CITIZENSHIP_RF,
    ApplicationDraft,
    DocumentDraft,
    PersonDraft,
    ReplacementDraft,
    RepresentativeDraft,
)
from gateway.domain.identifiers import enp_violations, inn_violations, snils_violations
from gateway.domain.model import (
    Authority,
    AuthorityType,
    Document,
    DocumentType,
    InsuredCategory,
    NewPolicyRequest,
    Person,
    PersonChanges,
    Policy,
    PolicyStatus,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Sex,
    Violation,
)
from gateway.domain.reference import Reference
from gateway.domain.text import NAME_MIXED_SCRIPTS, mixed_script_letters

DT = DocumentType

NAME_MAX_LENGTH = 100
BIRTH_PLACE_MAX_LENGTH = 250
# Until 18 the insurer is chosen by a parent or another legal representative (326-ФЗ art. 16 p. 2): a minor,
# even one with a passport, is applied for by the representative (relation `child` or `ward`).
ADULT_AGE = 18
# A citizen gives a СНИЛС from 14, with the passport; a child under 14 on a birth certificate only if they have one
# (DOMAIN.md, "Who may be insured": 326-ФЗ art. 10 and the rules of ОМС).
SNILS_REQUIRED_FROM_AGE = 14

CITIZEN_DOCUMENTS = frozenset({DT.PASSPORT_RF, DT.BIRTH_CERTIFICATE_RF, DT.TEMPORARY_IDENTITY_CARD_RF})
# Who may represent whom: a parent or guardian a child, a guardian a ward (опека), an adult by power of attorney.
RELATION_AUTHORITIES = {
    Relation.CHILD: frozenset({AuthorityType.PARENT, AuthorityType.GUARDIANSHIP_DECISION}),
    Relation.WARD: frozenset({AuthorityType.GUARDIANSHIP_DECISION}),
    Relation.SPOUSE: frozenset({AuthorityType.POWER_OF_ATTORNEY}),
}
# Members of the Eurasian Economic Union other than Russia: their workers are insured on a labour contract.
EAEU_STATES = frozenset({"ARM", "BLR", "KAZ", "KGZ"})
PERMITS = frozenset({DT.RESIDENCE_PERMIT, DT.TEMPORARY_RESIDENCE_PERMIT})
STATELESS = "stateless"
# The document that allows the stay, by the category an applicant states: living permanently is a residence
# permit, temporarily a temporary residence permit, an EAEU worker's stay is the labour contract.
STAY_OF_CATEGORY = {
    InsuredCategory.FOREIGNER_PERMANENT: DT.RESIDENCE_PERMIT,
    InsuredCategory.STATELESS_PERMANENT: DT.RESIDENCE_PERMIT,
    InsuredCategory.FOREIGNER_TEMPORARY: DT.TEMPORARY_RESIDENCE_PERMIT,
    InsuredCategory.STATELESS_TEMPORARY: DT.TEMPORARY_RESIDENCE_PERMIT,
    InsuredCategory.EAEU_WORKER: DT.LABOUR_CONTRACT_EAEU,
}

# Apostrophes as typed or pasted: O'Brien, Д’Артаньян, and the modifier letter ʼ of Ukrainian and Belarusian.
_NAME_MARKS = frozenset(" -'\u2019\u02bc")


def name_violations(value: str | None, field: str, *, required: bool = True) -> list[Violation]:
    """FIELD_REQUIRED; NAME_CHARACTERS unless Cyrillic/Latin letters, spaces, hyphens, apostrophes;
    NAME_MIXED_SCRIPTS for a word of both alphabets; FIELD_TOO_LONG."""
    text = unicodedata.normalize("NFC", value or "").strip()
    if not text:
        return [Violation("FIELD_REQUIRED", field)] if required else []
    found: list[Violation] = []
    wrong = sorted({char for char in text if char not in _NAME_MARKS and not _is_name_letter(char)})
    if wrong or not any(_is_name_letter(char) for char in text):
        found.append(Violation("NAME_CHARACTERS", field, (("characters", "".join(wrong)),)))
    # No identity document writes one word in two alphabets: "Ивaновa" with a Latin «a» is a look-alike typed in
    # the other keyboard layout, which the registry's search by name would never find (README, domain rules).
    mixed = mixed_script_letters(text)
    if mixed:
        found.append(Violation(NAME_MIXED_SCRIPTS, field, (("characters", mixed),)))
    if len(text) > NAME_MAX_LENGTH:
        found.append(Violation("FIELD_TOO_LONG", field, (("max_length", str(NAME_MAX_LENGTH)),)))
    return found


def _is_name_letter(char: str) -> bool:
    # The script is in the character's Unicode name: "CYRILLIC SMALL LETTER IO", "LATIN SMALL LETTER E WITH ACUTE".
    name = unicodedata.name(char, "")
    return char.isalpha() and (name.startswith("CYRILLIC") or name.startswith("LATIN"))


def check_person(person: Person, today: date, path: str = "person") -> list[Violation]:
    """Every rule on a person: names, birth date, СНИЛС, ИНН, documents and the documents their category needs."""
    return check_person_draft(PersonDraft.of(person), today, path)


def check_person_draft(person: PersonDraft, today: date, path: str = "person") -> list[Violation]:
    """The rules of check_person whose fields were read (drafts.py)."""
    # A required name that is None was not read: the schema named it already.
    found = [] if person.last_name is None else name_violations(person.last_name, f"{path}.last_name")
    found += [] if person.first_name is None else name_violations(person.first_name, f"{path}.first_name")
    found += name_violations(person.middle_name, f"{path}.middle_name", required=False)
    found += _birth_place_violations(person.birth_place, f"{path}.birth_place")
    birth_date = _birth_date(person.birth_date, today, f"{path}.birth_date", found)
    if person.snils is not None:
        found += snils_violations(person.snils, f"{path}.snils")
    elif birth_date is not None and "snils" not in person.unread and _snils_required(person, birth_date, today):
        found.append(Violation("SNILS_REQUIRED", f"{path}.snils"))
    if person.inn is not None:
        found += inn_violations(person.inn, f"{path}.inn")
    for name, document in (
        ("identity_document", person.identity_document),
        ("residence_document", person.residence_document),
    ):
        if document is not None:
            found += document_draft_violations(document, today, f"{path}.{name}", birth_date)
    standing = _standing(person)
    if standing is not None:
        found += _category_violations(standing, path)
    return found


def _birth_date(value: date | None, today: date, field: str, found: list[Violation]) -> date | None:
    # The birth date the age rules may use: none when it was not read, or is in the future (said once, here).
    if value is not None and value > today:
        found.append(Violation("BIRTH_DATE_IN_FUTURE", field))
        return None
    return value


def document_draft_violations(
    document: DocumentDraft, today: date, path: str, birth_date: date | None = None
) -> list[Violation]:
    """The rules of one document whose fields were read (drafts.py)."""
    # Every rule reads the type, the date and age rules the dates too; the series and number rules read nothing
    # else, so a stand-in for an unread series or number is never read, and a reason at it is dropped.
    whole = document.whole()
    if whole is not None:
        return document_violations(whole, today, path, birth_date)
    if document.type is None:
        return []
    stand_in = Document(
        document.type, document.number or "", document.issue_date or today, document.series, None, document.expiry_date
    )
    if document.issue_date is not None and "expiry_date" not in document.unread:
        found = document_violations(stand_in, today, path, birth_date)
    else:
        found = format_violations(stand_in, path)
    unread = {f"{path}.{name}" for name in document.unread} | ({f"{path}.number"} if document.number is None else set())
    return [violation for violation in found if violation.field not in unread]


@dataclass(frozen=True)
class _Standing:
    """What decides which documents a person may be insured on: citizenship, stated category, document types."""

    citizenship: str
    category: InsuredCategory | None
    identity: DocumentType
    residence: DocumentType | None

    @property
    def is_citizen(self) -> bool:
        return self.citizenship == CITIZENSHIP_RF


def _standing(person: PersonDraft) -> _Standing | None:
    # The category rules read the citizenship, the category and both documents' types: all must have been read.
    if person.unread & {"citizenship", "category", "identity_document", "residence_document"}:
        return None
    identity, residence = person.identity_document, person.residence_document
    if person.citizenship is None or identity is None or identity.type is None:
        return None
    if residence is not None and residence.type is None:
        return None
    return _Standing(person.citizenship, person.category, identity.type, None if residence is None else residence.type)


def _birth_place_violations(value: str | None, field: str) -> list[Violation]:
    if value is not None and len(unicodedata.normalize("NFC", value)) > BIRTH_PLACE_MAX_LENGTH:
        return [Violation("FIELD_TOO_LONG", field, (("max_length", str(BIRTH_PLACE_MAX_LENGTH)),))]
    return []


def _snils_required(person: PersonDraft, birth_date: date, today: date) -> bool:
    # Foreigners give a СНИЛС only if they have one, and so do children under 14 (DOMAIN.md).
    return person.is_citizen and age_on(birth_date, today) >= SNILS_REQUIRED_FROM_AGE


def _stated_category_violations(person: _Standing, path: str) -> list[Violation]:
    # A category the applicant states must agree with citizenship; highly qualified specialists and their families
    # are not insured in ОМС at all (326-ФЗ art. 10): their employer's voluntary insurance covers them.
    category, field = person.category, f"{path}.category"
    if category is None:
        return []
    if category is InsuredCategory.HIGHLY_QUALIFIED_SPECIALIST:
        return [Violation("HIGHLY_QUALIFIED_SPECIALIST", field)]
    citizen_category = category is InsuredCategory.CITIZEN
    if citizen_category != person.is_citizen:
        return [Violation("FIELD_INVALID", field, (("rule", "category_and_citizenship"),))]
    stateless_category = category in (InsuredCategory.STATELESS_PERMANENT, InsuredCategory.STATELESS_TEMPORARY)
    if stateless_category != (person.citizenship == STATELESS) and category is not InsuredCategory.REFUGEE:
        return [Violation("FIELD_INVALID", field, (("rule", "category_and_citizenship"),))]
    if category is InsuredCategory.EAEU_WORKER and person.citizenship not in EAEU_STATES:
        return [Violation("FIELD_INVALID", field, (("rule", "eaeu_citizenship"),))]
    if category is InsuredCategory.REFUGEE and person.identity not in REFUGEE_DOCUMENTS:
        return [_not_allowed(f"{path}.identity_document.type", "refugee")]
    return []


def _category_violations(person: _Standing, path: str) -> list[Violation]:
    # Age limits of a citizen's documents (passport from 14, birth certificate until 14 + 30 days) are rules of the
    # documents themselves (documents.py); here only which type of document the person's category allows.
    stated = _stated_category_violations(person, path)
    if stated:
        return stated
    identity, residence = person.identity, person.residence
    identity_path, residence_path = f"{path}.identity_document.type", f"{path}.residence_document"
    found: list[Violation] = []
    if person.is_citizen:
        if identity not in CITIZEN_DOCUMENTS:
            found.append(_not_allowed(identity_path, "citizen"))
        if residence is not None:
            # A citizen needs no permission to live in Russia.
            found.append(_not_allowed(f"{residence_path}.type", "citizen"))
        return found
    if identity in REFUGEE_DOCUMENTS:
        # A refugee's or asylum seeker's certificate is both the identity document and what allows the stay.
        if residence is not None and residence not in PERMITS:
            found.append(_not_allowed(f"{residence_path}.type", "refugee"))
        return found or _stay_of_category_violations(person, path)
    stateless = person.citizenship == STATELESS
    category = STATELESS if stateless else "foreigner"
    # A stateless person's residence permit (and temporary residence permit) is also their identity document
    # (115-ФЗ art. 2 and 10).
    allowed = {DT.FOREIGN_PASSPORT} | (PERMITS if stateless else set())
    if identity not in allowed:
        found.append(_not_allowed(identity_path, category))
    # A worker from an EAEU state may stay on the labour contract alone (Договор о ЕАЭС art. 97, 98).
    stays = PERMITS | ({DT.LABOUR_CONTRACT_EAEU} if person.citizenship in EAEU_STATES else set())
    if residence is None:
        if not (stateless and identity in PERMITS):
            found.append(Violation("RESIDENCE_DOCUMENT_REQUIRED", residence_path))
    elif residence not in stays:
        found.append(_not_allowed(f"{residence_path}.type", category))
    return found or _stay_of_category_violations(person, path)


def _stay_of_category_violations(person: _Standing, path: str) -> list[Violation]:
    # A stated category must be the one the stay document gives: "permanent" with a temporary residence permit
    # would send the registry a category the documents do not prove. The stay document is the residence document,
    # or an identity document that is one (documents.stay_document).
    category = person.category
    if category is None or category not in STAY_OF_CATEGORY:
        return []
    if person.residence is not None:
        name, stay = "residence_document", person.residence
    elif person.identity in STAY_DOCUMENTS:
        name, stay = "identity_document", person.identity
    else:
        return []
    if stay is STAY_OF_CATEGORY[category]:
        return []
    return [_not_allowed(f"{path}.{name}.type", category.value)]


def _not_allowed(field: str, category: str) -> Violation:
    return Violation("DOCUMENT_NOT_ALLOWED_FOR_CATEGORY", field, (("category", category),))


def check_new_application(request: NewPolicyRequest, today: date, reference: Reference) -> list[Violation]:
    """Every rule on `POST /api/v1/applications`: the person, who applies for them, region, insurer and form."""
    return check_application_draft(ApplicationDraft.of(request), today, reference)


def check_application_draft(draft: ApplicationDraft, today: date, reference: Reference) -> list[Violation]:
    """The rules of check_new_application whose fields were read (drafts.py)."""
    person, relation = draft.person, draft.relation
    found = [] if person is None else check_person_draft(person, today, "person")
    birth_date = None if person is None else person.birth_date
    if relation is not None and birth_date is not None and birth_date <= today:
        found += _relation_violations(relation, age_on(birth_date, today))
    if "representative" not in draft.unread:
        found += _representative_violations(relation, draft.representative, today)
    if draft.region_code is not None:
        found += _region_violations(draft.region_code, reference)
    if draft.insurer_code is not None:
        region = None if "region_code" in draft.unread else draft.region_code
        found += _insurer_violations(
            draft.insurer_code, region, today, reference, admission="region_code" not in draft.unread
        )
    return found


def _relation_violations(relation: Relation, age: int) -> list[Violation]:
    if relation is Relation.SELF and age < ADULT_AGE:
        return [Violation("REPRESENTATIVE_REQUIRED", "relation")]
    if relation is Relation.CHILD and age >= ADULT_AGE:
        # An adult son or daughter applies for themselves (or through a ward's guardian).
        return [Violation("FIELD_INVALID", "relation", (("rule", "child_under_18"),))]
    return []


def representative_violations(
    relation: Relation, representative: Representative | None, today: date
) -> list[Violation]:
    """Who applies for another person: an adult, identified, with an authority that fits the relation."""
    draft = None if representative is None else RepresentativeDraft.of(representative)
    return _representative_violations(relation, draft, today)


def _representative_violations(
    relation: Relation | None, representative: RepresentativeDraft | None, today: date
) -> list[Violation]:
    # Without the relation only the representative's own data can be checked, not whether one is needed.
    path = "representative"
    if relation is Relation.SELF:
        if representative is None:
            return []
        return [Violation("FIELD_INVALID", path, (("rule", "no_representative_for_self"),))]
    if representative is None:
        return [] if relation is None else [Violation("REPRESENTATIVE_REQUIRED", path)]
    found = [] if representative.last_name is None else name_violations(representative.last_name, f"{path}.last_name")
    found += (
        [] if representative.first_name is None else name_violations(representative.first_name, f"{path}.first_name")
    )
    found += name_violations(representative.middle_name, f"{path}.middle_name", required=False)
    born = _birth_date(representative.birth_date, today, f"{path}.birth_date", found)
    if born is not None and age_on(born, today) < ADULT_AGE:
        found.append(Violation("REPRESENTATIVE_NOT_ADULT", f"{path}.birth_date"))
    if representative.snils is not None:
        found += snils_violations(representative.snils, f"{path}.snils")
    if representative.identity_document is not None:
        found += document_draft_violations(representative.identity_document, today, f"{path}.identity_document", born)
    if relation is not None and representative.authority is not None:
        found += _authority_violations(relation, representative.authority, today, f"{path}.authority")
    return found


def _authority_violations(relation: Relation, authority: Authority, today: date, path: str) -> list[Violation]:
    if authority.type not in RELATION_AUTHORITIES[relation]:
        allowed = ",".join(sorted(kind.value for kind in RELATION_AUTHORITIES[relation]))
        return [Violation("REPRESENTATIVE_AUTHORITY_INVALID", f"{path}.type", (("allowed", allowed),))]
    if authority.type is AuthorityType.PARENT:
        return []  # the child's birth certificate, already checked, names the parent
    found: list[Violation] = []
    if not authority.number:
        found.append(Violation("FIELD_REQUIRED", f"{path}.number"))
    if authority.issue_date is None:
        found.append(Violation("FIELD_REQUIRED", f"{path}.issue_date"))
    elif authority.issue_date > today:
        found.append(Violation("DOCUMENT_ISSUE_DATE_IN_FUTURE", f"{path}.issue_date"))
    return found


def _region_violations(region_code: str, reference: Reference) -> list[Violation]:
    if region_code not in reference.regions:
        return [Violation("REGION_UNKNOWN", "region_code")]
    return []


def _insurer_violations(
    insurer_code: str, region_code: str | None, today: date, reference: Reference, *, admission: bool = True
) -> list[Violation]:
    # `admission`: whether the region is known well enough to ask if the insurer is admitted there.
    insurer = reference.insurers.get(insurer_code)
    if insurer is None:
        return [Violation("INSURER_UNKNOWN", "insurer_code")]
    found: list[Violation] = []
    # Without a region the insurer must at least still be admitted in its own; an unknown region is said once.
    region = insurer.region_code if region_code is None else region_code
    if admission and region in reference.regions and not insurer.admitted_on(today, region):
        found.append(Violation("INSURER_NOT_ADMITTED", "insurer_code", (("region_code", region),)))
    # Which forms an insurer issues is its own decision and changes with its contracts: the insurer says it
    # (POLICY_FORM_NOT_ISSUED), not a copy of its price list here.
    return found


def check_changes(changes: PersonChanges, today: date, path: str = "person") -> list[Violation]:
    """The rules on the fields a replacement changes; category rules need the whole person (check_person)."""
    return _changes_violations(PersonDraft.of_changes(changes), today, path)


def _changes_violations(changes: PersonDraft, today: date, path: str) -> list[Violation]:
    found = name_violations(changes.last_name, f"{path}.last_name", required=False)
    found += name_violations(changes.first_name, f"{path}.first_name", required=False)
    found += name_violations(changes.middle_name, f"{path}.middle_name", required=False)
    found += _birth_place_violations(changes.birth_place, f"{path}.birth_place")
    birth_date = _birth_date(changes.birth_date, today, f"{path}.birth_date", found)
    if changes.snils is not None:
        found += snils_violations(changes.snils, f"{path}.snils")
    for name, document in (
        ("identity_document", changes.identity_document),
        ("residence_document", changes.residence_document),
    ):
        if document is not None:
            found += document_draft_violations(document, today, f"{path}.{name}", birth_date)
    return found


def check_replacement(request: ReplacementRequest, today: date, reference: Reference) -> list[Violation]:
    """Every rule on `POST /api/v1/policies/{enp}/replacements` decided without the registry's record."""
    return check_replacement_draft(ReplacementDraft.of(request), today, reference)


def check_replacement_draft(draft: ReplacementDraft, today: date, reference: Reference) -> list[Violation]:
    """The rules of check_replacement whose fields were read (drafts.py)."""
    found = [] if draft.enp is None else enp_violations(draft.enp, "enp")
    found += _changes_violations(draft.person, today, "person")
    reason = draft.reason
    # What the changes come to is known only if all of them were read.
    changes_read = "person" not in draft.unread and draft.person.read_whole
    if reason is ReplacementReason.PERSONAL_DATA_CHANGE and changes_read and not draft.changes_stated:
        found.append(Violation("FIELD_REQUIRED", "person"))
    if reason is ReplacementReason.EXPIRY_RENEWAL and changes_read and not _renews_stay(draft.person):
        # Only a foreigner's or refugee's policy ends; it is renewed with the new document that allows the stay.
        found.append(Violation("REPLACEMENT_REASON_NOT_APPLICABLE", "reason"))
    if reason in (ReplacementReason.INSURER_CHANGE, ReplacementReason.RELOCATION):
        found += _choice_violations(draft, today, reference)
    return found


def _renews_stay(changes: PersonDraft) -> bool:
    identity = changes.identity_document
    return changes.residence_document is not None or (identity is not None and identity.type in STAY_DOCUMENTS)


def _choice_violations(draft: ReplacementDraft, today: date, reference: Reference) -> list[Violation]:
    # A change of insurer names the new one; a move names the new region (the insurer may stay the same code only
    # if the registry agrees, so it is optional here).
    found: list[Violation] = []
    insurer_read, region_read = "insurer_code" not in draft.unread, "region_code" not in draft.unread
    if draft.reason is ReplacementReason.INSURER_CHANGE and draft.insurer_code is None and insurer_read:
        found.append(Violation("FIELD_REQUIRED", "insurer_code"))
    if draft.reason is ReplacementReason.RELOCATION and draft.region_code is None and region_read:
        found.append(Violation("FIELD_REQUIRED", "region_code"))
    if draft.region_code is not None:
        found += _region_violations(draft.region_code, reference)
    if draft.insurer_code is not None:
        found += _insurer_violations(draft.insurer_code, draft.region_code, today, reference, admission=region_read)
    return found


def policy_end_date(person: Person, application_date: date) -> date | None:
    """None for a citizen; otherwise 31 December of the year, never past the stay document's expiry."""
    # FFOMS letter 08.11.2017 № 13057/91/и.
    if person.is_citizen:
        return None
    end = date(application_date.year, 12, 31)
    stay = stay_document(person.identity_document, person.residence_document)
    if stay is not None and stay.expiry_date is not None and stay.expiry_date < end:
        return stay.expiry_date
    return end


def issued_policy_end(person: Person, application_date: date, registered: date | None) -> date | None:
    """The end of a policy the fund registered: its date, never later than the law lets a non-citizen's run."""
    # The fund records the date, but the law sets its bound (policy_end_date): an answer that lacks it or goes
    # past it does not make a foreigner's policy longer, so the application shows the lawful end.
    limit = policy_end_date(person, application_date)
    if limit is None or (registered is not None and registered <= limit):
        return registered
    return limit


def mothers_insurer_violation(
    request: NewPolicyRequest, on: date, mother_sex: Sex | None, mother_policy: Policy | None
) -> Violation | None:
    """NEWBORN_MOTHER_INSURER when a newborn applying within 30 days of the birth's registration chooses an insurer
    other than the one of the mother's active policy (the mother as the registry records her: a woman)."""
    until = with_mothers_insurer_until(request.person)
    if until is None or on > until or mother_sex is not Sex.FEMALE or mother_policy is None:
        return None
    if mother_policy.status is not PolicyStatus.ACTIVE or mother_policy.insurer_code == request.insurer_code:
        return None
    allowed_from = (until + timedelta(days=1)).isoformat()
    details = (("mothers_insurer", mother_policy.insurer_code), ("allowed_from", allowed_from))
    return Violation("NEWBORN_MOTHER_INSURER", "insurer_code", details)


def mother_to_ask(request: NewPolicyRequest, on: date) -> str | None:
    """The СНИЛС of the parent whose insurer a newborn's application must follow, if the rule applies on the day."""
    until = with_mothers_insurer_until(request.person)
    representative = request.representative
    if until is None or on > until or representative is None or representative.snils is None:
        return None
    return representative.snils if representative.authority.type is AuthorityType.PARENT else None


# Which category a residence document makes of a foreigner, and of a stateless person (326-ФЗ art. 10).
_RESIDENCE_CATEGORIES = {
    DT.RESIDENCE_PERMIT: (InsuredCategory.FOREIGNER_PERMANENT, InsuredCategory.STATELESS_PERMANENT),
    DT.TEMPORARY_RESIDENCE_PERMIT: (InsuredCategory.FOREIGNER_TEMPORARY, InsuredCategory.STATELESS_TEMPORARY),
}
_REFUGEE_DOCUMENTS = frozenset(
    {DT.REFUGEE_CERTIFICATE, DT.REFUGEE_APPLICATION_CERTIFICATE, DT.TEMPORARY_ASYLUM_CERTIFICATE}
)


def insured_category(person: Person) -> InsuredCategory | None:
    """The person's category under 326-ФЗ art. 10: as stated, else from citizenship and documents; None when
    nothing says it (the fund then refuses with RESIDENCE_DOCUMENT_REQUIRED, a reason the user can act on)."""
    if person.category is not None:
        return person.category
    if person.is_citizen:
        return InsuredCategory.CITIZEN
    stateless = person.citizenship == STATELESS
    for document in (person.residence_document, person.identity_document):
        if document is None:
            continue
        if document.type in _REFUGEE_DOCUMENTS:
            return InsuredCategory.REFUGEE
        if document.type is DT.LABOUR_CONTRACT_EAEU:
            return InsuredCategory.EAEU_WORKER
        categories = _RESIDENCE_CATEGORIES.get(document.type)
        if categories is not None:
            return categories[1] if stateless else categories[0]
    return None


# Until 30 days after the birth is registered a newborn is insured with the mother's insurer (326-ФЗ art. 16).
NEWBORN_WITH_MOTHERS_INSURER = timedelta(days=30)


def with_mothers_insurer_until(child: Person) -> date | None:
    """The last day a newborn stays with the mother's insurer: 30 days after the birth was registered (the day
    the birth certificate was issued); None when the person is not a child with a birth certificate."""
    document = child.identity_document
    if document.type is not DT.BIRTH_CERTIFICATE_RF:
        return None
    return document.issue_date + NEWBORN_WITH_MOTHERS_INSURER
