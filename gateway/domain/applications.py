"""An application and its state machine: accepted → verifying → issuing → issued | rejected, or cancelled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from gateway.domain.identifiers import normalize_identifier, snils_violations
from gateway.domain.model import (
    ApplicationKind,
    ApplicationStatus,
    HistoryEntry,
    IssuedPolicy,
    NewPolicyRequest,
    Person,
    Reason,
    RegistryApplicationType,
    RegistryReason,
    Relation,
    ReplacementRequest,
    Violation,
)

Status = ApplicationStatus

# Which public status may follow which. A step retried after an outage stays in its status (noted in history).
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    Status.ACCEPTED: frozenset({Status.VERIFYING, Status.CANCELLED, Status.REJECTED}),
    Status.VERIFYING: frozenset({Status.ISSUING, Status.REJECTED, Status.CANCELLED}),
    Status.ISSUING: frozenset({Status.ISSUED, Status.REJECTED}),
    Status.ISSUED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
}
CANCELLABLE = frozenset({Status.ACCEPTED, Status.VERIFYING})


class Step(StrEnum):
    """The worker's next step; finer than the public status (registering happens while `issuing`)."""

    VERIFY = "verify"
    ISSUE = "issue"
    REGISTER = "register"
    DONE = "done"


class TransitionError(Exception):
    """A status change the state machine does not allow."""


@dataclass(frozen=True)
class Owner:
    """Who submitted the application: the token's subject and, for a citizen, their СНИЛС."""

    sub: str
    snils: str | None = None


@dataclass(frozen=True)
class Progress:
    """What the steps learned so far, kept so that a retried step repeats the same request."""

    enp: str | None = None
    registry_type: RegistryApplicationType | None = None
    registry_reason: RegistryReason | None = None
    insurer_code: str | None = None
    region_code: str | None = None
    insurer_application_id: str | None = None
    person: Person | None = None  # the person as sent to the back-ends (a replacement's: merged with the record)


@dataclass(frozen=True)
class Application:
    """One application, new or replacement, and everything that happened to it."""

    id: str
    kind: ApplicationKind
    owner: Owner
    request: NewPolicyRequest | ReplacementRequest
    status: ApplicationStatus
    step: Step
    created_at: datetime
    updated_at: datetime
    history: tuple[HistoryEntry, ...]
    progress: Progress = Progress()
    rejection: tuple[Reason, ...] = ()
    policy: IssuedPolicy | None = None
    version: int = 0  # bumped by the store on every save, so concurrent changes are detected
    stalled: bool = False  # parked after too many failed attempts, until an operator resumes it

    @classmethod
    def accept(
        cls,
        application_id: str,
        owner: Owner,
        request: NewPolicyRequest | ReplacementRequest,
        at: datetime,
    ) -> Application:
        """A new application, accepted and waiting for its first step."""
        kind = ApplicationKind.NEW if isinstance(request, NewPolicyRequest) else ApplicationKind.REPLACEMENT
        return cls(
            id=application_id,
            kind=kind,
            owner=owner,
            request=request,
            status=Status.ACCEPTED,
            step=Step.VERIFY,
            created_at=at,
            updated_at=at,
            history=(HistoryEntry(Status.ACCEPTED, at),),
        )

    @property
    def enp(self) -> str | None:
        """The ЕНП the application concerns: the replaced one, or the one issued or found."""
        if isinstance(self.request, ReplacementRequest):
            return self.request.enp
        if self.policy is not None:
            return self.policy.enp
        return self.progress.enp

    def move(self, status: ApplicationStatus, step: Step, at: datetime, note: str | None = None) -> Application:
        """Change status (and step), recording the transition in history."""
        if status != self.status and status not in TRANSITIONS[self.status]:
            raise TransitionError(f"{self.status} → {status} is not allowed")
        history = self.history
        if status != self.status or note:
            history = (*history, HistoryEntry(status, at, note))
        # A step taken (or a cancellation) ends a stall.
        return replace(self, status=status, step=step, updated_at=at, history=history, stalled=False)

    def note_retry(self, at: datetime, note: str) -> Application:
        """Record that a step will be retried after a back-end outage; the status stays."""
        return replace(self, updated_at=at, history=(*self.history, HistoryEntry(self.status, at, note)))

    def stall(self, at: datetime, note: str) -> Application:
        """Parked after too many failed attempts: no step is tried again until an operator resumes it."""
        return replace(self.note_retry(at, note), stalled=True)

    def resume(self, at: datetime, note: str) -> Application:
        """Resumed by an operator (or simply due again): its steps are tried again."""
        return replace(self.note_retry(at, note), stalled=False)

    def with_progress(self, **changes: Any) -> Application:
        """Remember what a step learned."""
        return replace(self, progress=replace(self.progress, **changes))

    def reject(self, reasons: tuple[Reason, ...], at: datetime) -> Application:
        """Final refusal with its reasons."""
        rejected = self.move(Status.REJECTED, Step.DONE, at)
        return replace(rejected, rejection=reasons)

    def issue(self, policy: IssuedPolicy, at: datetime) -> Application:
        """Final success with the policy it produced."""
        issued = self.move(Status.ISSUED, Step.DONE, at)
        return replace(issued, policy=policy)

    def cancel(self, at: datetime) -> Application:
        """Cancelled by its owner; only before the insurer is involved."""
        if self.status not in CANCELLABLE:
            raise TransitionError(f"an application in status {self.status} can no longer be cancelled")
        return self.move(Status.CANCELLED, Step.DONE, at)


# --- who may apply for whom (README, "Who may see what") ------------------------------------------------------
# The caller's identity is what the identity provider confirmed: the token's `snils` claim. Knowing another
# person's СНИЛС and passport must give nobody anything of theirs, so the rules rest on that claim and on what the
# gateway itself has done (an application it issued), never on what a request says of a person.


def applicant_violations(request: NewPolicyRequest | ReplacementRequest, caller_snils: str | None) -> list[Violation]:
    """`self` names the caller's own СНИЛС; a representative, when their СНИЛС is given, is the caller."""
    if not isinstance(request, NewPolicyRequest):
        return []  # a replacement is allowed or not by the policy it names (may_replace)
    if request.relation is Relation.SELF:
        if caller_snils is None:
            return [Violation("SELF_SNILS_MISMATCH", "person.snils", (("rule", "token_has_no_snils"),))]
        snils = request.person.snils
        if snils is not None and not snils_violations(snils) and not _same(snils, caller_snils):
            return [Violation("SELF_SNILS_MISMATCH", "person.snils")]
        return []
    representative = request.representative
    if representative is None or representative.snils is None or caller_snils is None:
        return []
    if snils_violations(representative.snils, "representative.snils"):
        return []  # its own format or check number reason says it better
    if not _same(representative.snils, caller_snils):
        return [Violation("REPRESENTATIVE_NOT_CALLER", "representative.snils")]
    return []


def _same(snils: str, other: str) -> bool:
    return normalize_identifier(snils) == normalize_identifier(other)
