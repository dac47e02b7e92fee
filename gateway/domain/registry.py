"""What the gateway exchanges with the fund's registry and the insurers, and the registry's rules for an application.

The values are what the ports of gateway/ports.py carry; the rules decide, without asking anyone, what an answer
means for an application: which application of the registry it becomes (type, reason, insurer, region), or which
reason refuses it. The use case asks the back-ends and applies the decision (gateway/usecases/processing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gateway.domain.applications import Application
from gateway.domain.calendar import application_date
from gateway.domain.changes import apply_changes
from gateway.domain.clinics import AttachmentReason
from gateway.domain.eligibility import check_person, issued_policy_end
from gateway.domain.model import (
    InsurerState,
    IssuedPolicy,
    NewPolicyRequest,
    Person,
    Policy,
    PolicyForm,
    PolicyStatus,
    RegistryApplicationType,
    RegistryPolicyForm,
    RegistryReason,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Representative,
    Source,
    Violation,
)
from gateway.domain.reference import Reference

Type = RegistryApplicationType

# --- what the back-ends answer, and what they are asked -----------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The fund's check of an applicant: new to the registry, or known with an ЕНП and maybe a policy."""

    known: bool
    enp: str | None = None
    policy: Policy | None = None


@dataclass(frozen=True)
class RegistryPerson:
    """A person as the fund's registry records them: the person, and what only the registry knows of them."""

    person: Person  # as recorded: no birth place, ИНН or residence document, which the registry does not answer
    enp: str | None = None
    death_date: date | None = None
    policy: Policy | None = None


@dataclass(frozen=True)
class Registration:
    """An application carried out by an insurer, to be recorded by the fund."""

    application_date: date
    type: RegistryApplicationType
    reason: RegistryReason
    person: Person
    insurer_code: str
    region_code: str
    policy_form: PolicyForm
    enp: str | None = None
    insurer_application_id: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    registration_id: str
    enp: str
    enp_assigned: bool
    policy: Policy


@dataclass(frozen=True)
class InsurerApplication:
    """What an insurer is asked to do: issue (`enp` when the person is known) or replace (`type` set)."""

    application_date: date
    reason: RegistryReason
    person: Person
    region_code: str
    policy_form: PolicyForm
    enp: str | None = None
    type: RegistryApplicationType | None = None  # set for ReplacePolicy: reissue, duplicate, data_change
    representative: Representative | None = None  # who applied for a child, a ward or a spouse
    relation: Relation | None = None  # whom the representative applied for


@dataclass(frozen=True)
class AttachmentRequest:
    """A person's choice of a clinic, for the fund to record (AttachToClinic)."""

    enp: str
    clinic_code: str
    application_date: date
    reason: AttachmentReason = AttachmentReason.CHOICE


@dataclass(frozen=True)
class TemporaryCertificate:
    number: str
    valid_to: date


@dataclass(frozen=True)
class InsurerResult:
    """An insurer's answer about an application it carried out."""

    insurer_application_id: str
    state: InsurerState
    policy_form: RegistryPolicyForm
    valid_from: date
    valid_to: date | None = None
    temporary_certificate: TemporaryCertificate | None = None


# --- the decisions ------------------------------------------------------------------------------------------

# The registry's application a replacement becomes (contracts/common/common.xsd, c:ApplicationReason).
REPLACEMENT_TYPES: dict[ReplacementReason, tuple[RegistryApplicationType, RegistryReason]] = {
    ReplacementReason.PERSONAL_DATA_CHANGE: (Type.REISSUE, RegistryReason.PERSONAL_DATA_CHANGE),
    ReplacementReason.EXPIRY_RENEWAL: (Type.REISSUE, RegistryReason.EXPIRY_RENEWAL),
    ReplacementReason.LOST: (Type.DUPLICATE, RegistryReason.LOSS),
    ReplacementReason.DAMAGED: (Type.DUPLICATE, RegistryReason.WEAR),
    ReplacementReason.RELOCATION: (Type.INSURER_CHOICE, RegistryReason.RELOCATION),
    ReplacementReason.INSURER_CHANGE: (Type.INSURER_CHOICE, RegistryReason.OWN_WISH),
}


@dataclass(frozen=True)
class Refusal:
    """Why the application ends here: the broken rules, and the system whose rule each is."""

    violations: tuple[Violation, ...]
    source: Source = Source.FUND


@dataclass(frozen=True)
class Proceed:
    """The registry's application a verified one becomes, and the person the back-ends are sent."""

    type: RegistryApplicationType
    reason: RegistryReason
    insurer_code: str
    region_code: str
    person: Person
    enp: str | None = None


ALREADY_INSURED = Refusal((Violation("ALREADY_INSURED_SAME_INSURER", "insurer_code"),))
ENP_UNKNOWN = Refusal((Violation("ENP_NOT_FOUND", "enp"),))


def insured_with(policy: Policy, insurer_code: str, region_code: str | None = None) -> bool:
    """Whether the policy is with this insurer already (and, when one is named, in this region)."""
    return policy.insurer_code == insurer_code and (region_code is None or policy.region_code == region_code)


def choice_reason(current: Policy | None, region_code: str) -> RegistryReason:
    """Why a person chooses an insurer: the first time, on moving to another region, or by their own wish."""
    if current is None or current.status is not PolicyStatus.ACTIVE:
        return RegistryReason.FIRST_CHOICE
    return RegistryReason.RELOCATION if current.region_code != region_code else RegistryReason.OWN_WISH


def forced_reason(reason: RegistryReason, contract_ended: bool) -> RegistryReason:
    """A change of insurer by wish that the end of the insurer's contract forces: then no yearly limit holds."""
    if reason is RegistryReason.OWN_WISH and contract_ended:
        return RegistryReason.INSURER_CONTRACT_ENDED
    return reason


def new_policy_decision(request: NewPolicyRequest, verification: Verification) -> Proceed | Refusal:
    """What the fund's check of an applicant means: refused when already insured with this insurer, else a choice."""
    policy = verification.policy
    active = policy is not None and policy.status is PolicyStatus.ACTIVE
    if active and policy is not None and insured_with(policy, request.insurer_code):
        return ALREADY_INSURED
    return Proceed(
        type=Type.INSURER_CHOICE,
        reason=choice_reason(policy, request.region_code),
        insurer_code=request.insurer_code,
        region_code=request.region_code,
        person=request.person,
        enp=verification.enp,
    )


def replacement_decision(
    request: ReplacementRequest, record: RegistryPerson | None, on: date, today: date, reference: Reference | None
) -> Proceed | Refusal:
    """What a replacement becomes given the registry's record of its ЕНП: the person with the changes applied, the
    registry's type and reason, the insurer and region; or the reason it is refused."""
    if record is None or record.policy is None:
        return ENP_UNKNOWN
    person = apply_changes(record.person, request.person)
    violations = check_person(person, today)
    if violations:
        return Refusal(tuple(violations), Source.GATEWAY)
    registry_type, reason = REPLACEMENT_TYPES[request.reason]
    current = record.policy
    insurer_code, region_code = current.insurer_code, current.region_code
    if registry_type is Type.INSURER_CHOICE:
        insurer_code = request.insurer_code or current.insurer_code
        region_code = request.region_code or current.region_code
        if insured_with(current, insurer_code, region_code):
            return ALREADY_INSURED
        ended = reference is not None and reference.contract_ended(current.insurer_code, on)
        reason = forced_reason(reason, ended)
    return Proceed(registry_type, reason, insurer_code, region_code, person, request.enp)


def issues_anew(registry_type: RegistryApplicationType) -> bool:
    """Whether the insurer is asked to issue (a choice of insurer) rather than to replace a policy it holds."""
    return registry_type is Type.INSURER_CHOICE


def insurer_declined(result: InsurerResult) -> bool:
    """An insurer's answer that declines the application without a fault: a refusal, nothing to register."""
    return result.state is InsurerState.REJECTED


# --- the requests of the later steps ------------------------------------------------------------------------


def registry_of(application: Application) -> tuple[RegistryApplicationType, RegistryReason]:
    """The registry's type and reason the verify step chose; a later step without them is a bug, not a refusal."""
    progress = application.progress
    if progress.registry_type is None or progress.registry_reason is None:
        raise RuntimeError(f"application {application.id} reached a back-end step without its registry type")
    return progress.registry_type, progress.registry_reason


def person_sent(application: Application) -> Person:
    """The person the verify step chose to send the back-ends."""
    if application.progress.person is None:
        raise RuntimeError(f"application {application.id} reached a back-end step without its person")
    return application.progress.person


def insurer_application(application: Application) -> InsurerApplication:
    """What the insurer is asked for an application past its verify step; the insurer records who applied for whom
    (insurer contract, version 2)."""
    progress, request = application.progress, application.request
    registry_type, reason = registry_of(application)
    representative, relation = None, None
    if isinstance(request, NewPolicyRequest) and request.representative is not None:
        representative, relation = request.representative, request.relation
    return InsurerApplication(
        application_date=application_date(application.created_at),
        reason=reason,
        person=person_sent(application),
        region_code=progress.region_code or "",
        policy_form=request.policy_form,
        enp=progress.enp,
        type=None if issues_anew(registry_type) else registry_type,
        representative=representative,
        relation=relation,
    )


def registration(application: Application) -> Registration:
    """What the fund is asked to record of an application the insurer carried out."""
    progress = application.progress
    registry_type, reason = registry_of(application)
    return Registration(
        application_date=application_date(application.created_at),
        type=registry_type,
        reason=reason,
        person=person_sent(application),
        insurer_code=progress.insurer_code or "",
        region_code=progress.region_code or "",
        policy_form=application.request.policy_form,
        enp=progress.enp,
        insurer_application_id=progress.insurer_application_id,
    )


def issued_policy(registered: Registration, result: RegistrationResult) -> IssuedPolicy:
    """The policy an application produced, as the fund registered it and within the term the law allows."""
    return IssuedPolicy(
        enp=result.enp,
        insurer_code=result.policy.insurer_code,
        valid_from=result.policy.valid_from,
        valid_to=issued_policy_end(registered.person, registered.application_date, result.policy.valid_to),
    )
