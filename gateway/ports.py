"""The ports the gateway's use cases need from the back-ends and the store; `adapters/` implements them over SOAP.

The values they carry are the domain's (gateway/domain/registry.py); here are the ports, their failures, and the
store's own types.

Every call carries a message id. For calls that change something it is the application id, so a retry after a
crash or a timeout is the same request to the back-end and never registers or issues twice.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from gateway.domain.applications import Application
from gateway.domain.clinics import Attachment, Clinic, Period, PolicyCard, PolicyEvent, Visit
from gateway.domain.model import ApplicationStatus, Insurer, Person, Policy, Reason, Source
from gateway.domain.registry import (
    AttachmentRequest,
    InsurerApplication,
    InsurerResult,
    Registration,
    RegistrationResult,
    RegistryPerson,
    Verification,
)

# --- how they fail -------------------------------------------------------------------------------------------


class BackendError(Exception):
    """Base of the back-end failures a use case must tell apart."""


class BackendRefusal(BackendError):
    """A business fault: the back-end understood the request and refused it. Becomes a catalogue reason."""

    def __init__(
        self,
        source: Source,
        code: str,
        message: str,
        field: str | None = None,
        allowed_from: date | None = None,
    ):
        super().__init__(f"{source} refused: {code}")
        self.source = source
        self.code = code
        self.message = message
        self.field = field  # a JSON path into the gateway's request, mapped by the adapter
        self.allowed_from = allowed_from


class BackendUnavailable(BackendError):
    """A technical failure (timeout, connection, HTTP 5xx, technical fault, garbage): retried, never a refusal."""

    def __init__(self, source: Source, operation: str, reason: str, retry_after: float | None = None):
        super().__init__(f"{source} {operation} unavailable: {reason}")
        self.source = source
        self.operation = operation
        self.reason = reason
        self.retry_after = retry_after


class NotFound(BackendError):
    """The back-end does not know what was asked for (an ЕНП), and said so plainly."""


# --- the ports -----------------------------------------------------------------------------------------------


class FundLookup(Protocol):
    """Finding a person in the territorial fund's registry (ТФОМС / ЕРЗЛ): both the workers and the API do."""

    def find_person(self, message_id: str, enp: str) -> RegistryPerson | None:
        """The registry's record of the holder of an ЕНП, or None."""
        ...

    def find_person_by_snils(self, message_id: str, snils: str) -> RegistryPerson | None:
        """The registry's record of the person with this СНИЛС, or None."""
        ...


class FundRegistry(FundLookup, Protocol):
    """What the workers ask of the registry: check an applicant, record what an insurer carried out."""

    def verify_person(self, message_id: str, person: Person, enp: str | None = None) -> Verification:
        """Check an applicant against the registry."""
        ...

    def register_policy(self, message_id: str, registration: Registration) -> RegistrationResult:
        """Record an application carried out by an insurer; idempotent by message id."""
        ...


class FundReads(FundLookup, Protocol):
    """What the API asks of the registry for a portal or a clinic: policies, insurers, clinics, visits."""

    def insurance_status(self, message_id: str, enp: str) -> Policy:
        """The policy of an ЕНП today; raises NotFound for an unknown ЕНП."""
        ...

    def policy_card(self, message_id: str, enp: str) -> PolicyCard:
        """The policy of an ЕНП and its holder's clinic, in one call; raises NotFound for an unknown ЕНП."""
        ...

    def list_insurers(self, message_id: str, region_code: str) -> list[Insurer]:
        """Insurers admitted in a region today."""
        ...

    def policy_history(self, message_id: str, enp: str) -> list[PolicyEvent]:
        """What happened to the policies of an ЕНП, oldest first; raises NotFound for an unknown ЕНП."""
        ...

    def visits(self, message_id: str, enp: str, period: Period) -> list[Visit]:
        """Care paid by ОМС in a period, oldest first; raises NotFound for an unknown ЕНП."""
        ...

    def list_clinics(self, message_id: str, region_code: str) -> list[Clinic]:
        """Clinics admitted in a region."""
        ...

    def attach_to_clinic(self, message_id: str, request: AttachmentRequest) -> Attachment:
        """Record a person's choice of a clinic; idempotent by message id; BackendRefusal when refused."""
        ...


class FundPort(FundRegistry, FundReads, Protocol):
    """The territorial fund's registry (ТФОМС / ЕРЗЛ): what the gateway asks of it, the workers' part and the API's.

    The contract's GetAttachment is not asked: GetPolicyCard answers the same clinic together with the policy.
    """


class InsurerPort(Protocol):
    """One insurer's service (every insurer implements the same contract)."""

    def issue_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        """Issue a policy; idempotent by message id."""
        ...

    def replace_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        """Re-issue, duplicate or change the data of a policy the insurer holds; idempotent by message id."""
        ...

    def application_state(self, message_id: str, application_message_id: str) -> InsurerResult | None:
        """What became of an application sent with `application_message_id`, or None if the insurer has none."""
        ...


class Insurers(Protocol):
    """The insurers the gateway can reach, by code."""

    def get(self, code: str) -> InsurerPort | None:
        """The port of the insurer with this code, or None when none is configured."""
        ...

    def codes(self) -> frozenset[str]:
        """Codes of every configured insurer."""
        ...


# --- storage ------------------------------------------------------------------------------------------------


class ConcurrentUpdate(Exception):
    """The application was changed (or removed) since it was read: read it again and redo the step."""

    def __init__(self, application_id: str, version: int):
        super().__init__(f"application {application_id} is no longer at version {version}")
        self.application_id = application_id
        self.version = version


class ApplicationInFlight(Exception):
    """Another replacement of the same policy is still in flight: this one was not stored."""

    def __init__(self, enp: str):
        super().__init__(enp)
        self.enp = enp


class InvalidCursor(ValueError):
    """A list cursor that the store did not hand out."""


@dataclass(frozen=True)
class Page:
    """One page of a list, newest first; `next_cursor` is None on the last page."""

    items: list[Application]
    next_cursor: str | None


def page_cursor(last: Application) -> str:
    """The opaque cursor every store hands out: the position (created_at, id) of the last item shown."""
    raw = f"{last.created_at.isoformat()}|{last.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cursor_position(cursor: str) -> tuple[datetime, str]:
    """The position a cursor of `page_cursor` names; InvalidCursor for anything a store did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, application_id = raw.split("|", 1)
        position = datetime.fromisoformat(created_at)
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise InvalidCursor(f"not a cursor of this list: {cursor!r}") from error
    if position.tzinfo is None:
        raise InvalidCursor(f"not a cursor of this list: {cursor!r}")
    return position, application_id


class ReservationState(StrEnum):
    NEW = "new"  # the key is now reserved for this request: go on
    REPLAY = "replay"  # done before with the same body: answer as then
    MISMATCH = "mismatch"  # the key was used with another body: 422
    IN_PROGRESS = "in_progress"  # the first request with this key is still being handled: 409


@dataclass(frozen=True)
class Reservation:
    """The answer to reserving an Idempotency-Key; a replay holds what the first request came to, one of two."""

    state: ReservationState
    application_id: str | None = None  # accepted: answered with the application as it is now
    reasons: tuple[Reason, ...] = ()  # refused: answered again with the same reasons


@dataclass(frozen=True)
class IdempotencyKey:
    """An Idempotency-Key as sent by one subject, with the fingerprint of the canonical request body."""

    owner_sub: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Claim:
    """An outbox entry a worker holds until its lease ends."""

    application_id: str
    attempts: int


@dataclass(frozen=True)
class Stalled:
    """An outbox entry parked after too many failed attempts, waiting for an operator."""

    application_id: str
    attempts: int
    stalled_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class OutboxStats:
    """How much work the outbox holds (for metrics): entries due now, waiting a retry's backoff, and parked."""

    due: int
    scheduled: int
    stalled: int
    oldest_pending_since: datetime | None  # when the oldest application with a live (not parked) entry was accepted


@dataclass(frozen=True)
class Idle:
    """An unfinished application that has not changed for a while: its id and state only, no personal data."""

    application_id: str
    status: ApplicationStatus
    updated_at: datetime  # its last stored change: a step, a retry noted, a stall, a resumption
    stalled: bool


class IdempotencyKeys(Protocol):
    """The Idempotency-Keys of submissions and the answers given to them."""

    def purge_idempotency_keys(self, made_before: datetime) -> int:
        """Forget the keys made before `made_before`; returns how many were forgotten."""
        ...

    def reserve(self, key: IdempotencyKey, now: datetime) -> Reservation:
        """Reserve an Idempotency-Key (committed at once, so a concurrent request sees it in progress)."""
        ...

    def finish(self, key: IdempotencyKey, reasons: tuple[Reason, ...]) -> None:
        """Remember the reasons a reserved key's request was refused with, to refuse a retry with them again.

        An accepted request finishes its key in `Applications.add`, together with the application.
        """
        ...

    def release(self, key: IdempotencyKey) -> None:
        """Forget a reservation whose request failed unexpectedly, so that a retry can go through."""
        ...


class Applications(Protocol):
    """The applications, as submitted and as they went on."""

    def add(self, application: Application, key: IdempotencyKey | None = None) -> None:
        """Insert the application and its outbox entry, and finish its key with it, in one transaction.

        ApplicationInFlight, with nothing stored, for a replacement while another of its policy is in flight.
        """
        ...

    def get(self, application_id: str) -> Application | None:
        """One application, or None."""
        ...

    def list_for_owner(self, owner_sub: str, limit: int, cursor: str | None) -> Page:
        """The owner's applications, newest first."""
        ...

    def granted_enps(self, owner_sub: str) -> frozenset[str]:
        """ЕНП on the owner's issued applications: the policies they reach as a representative."""
        ...

    def policy_changed_at(self, enp: str) -> datetime | None:
        """When an application concerning the ЕНП last changed (None: never): what keeps a cached status honest."""
        ...

    def save(self, application: Application, next_attempt_at: datetime | None) -> None:
        """Store the application's new state; schedule its outbox entry, or delete it when none is due.

        Raises ConcurrentUpdate when the stored version is not the application's; the stored version is then
        one more, so read the application again before saving it a second time.
        """
        ...


class Outbox(Protocol):
    """The work left to do on applications, claimed by workers under a lease."""

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, limit: int) -> list[Claim]:
        """Take due outbox entries no other worker holds (FOR UPDATE SKIP LOCKED where the database has it)."""
        ...

    def advance(self, application: Application, *, failures_cleared: bool = False) -> Application:
        """Store a step the application made, keeping its outbox entry leased: its worker goes on with it.

        `failures_cleared`: the step succeeded after failures, whose count starts again. Returns the application
        as stored (its version one more); raises ConcurrentUpdate as `save` does.
        """
        ...

    def retry_later(self, application: Application, at: datetime, error: str) -> None:
        """Store the application (with its retry noted) and make its outbox entry due again at `at`."""
        ...

    def stall(self, application: Application, at: datetime, error: str) -> None:
        """Store the application (its stop noted) and park its outbox entry: no longer due until resumed."""
        ...

    def stalled(self) -> list[Stalled]:
        """The parked outbox entries, oldest first."""
        ...

    def resume(self, application: Application, now: datetime) -> None:
        """Store the application (its resumption noted) and make its outbox entry due at `now`, attempts reset."""
        ...

    def outbox_stats(self, now: datetime) -> OutboxStats:
        """Counts of the outbox's entries as of `now`, and the age of its oldest live one (a cheap read)."""
        ...

    def without_progress(self, since: datetime) -> list[Idle]:
        """Unfinished applications (whether or not the outbox still holds them) unchanged since before `since`,
        longest unchanged first."""
        ...


class ApplicationStore(IdempotencyKeys, Applications, Outbox, Protocol):
    """The three in one database, written together where a submission or a step needs it (the SQL store)."""


@dataclass(frozen=True)
class JournalEntry:
    """One SOAP message sent or received, as its signature vouches for it: who said what, and when.

    No content of the message: its payload's `MessageId` names the application or read it belongs to, the rest
    says how it was sealed (adapters/signing.py). `outcome`: signed (sent), verified (received and believed),
    refused (received and not read: `reason` says why), unsigned (sent with signing switched off).
    """

    at: datetime
    direction: str  # sent | received
    address: str
    operation: str
    message_id: str | None
    outcome: str
    wsa_message_id: str | None = None
    relates_to: str | None = None
    signature: str | None = None
    signer: str | None = None
    fingerprint: str | None = None
    reason: str | None = None


class MessageJournal(Protocol):
    """Where the adapters note every message they send and receive."""

    def record(self, entry: JournalEntry) -> None: ...
