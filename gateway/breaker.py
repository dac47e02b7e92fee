"""A circuit breaker per back-end for the reads a user waits on: fail fast while a back-end is down.

Only a technical failure (BackendUnavailable) counts; a refusal or a "not found" is the back-end answering. The
outbox workers never go through a breaker: they retry with backoff anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from gateway.domain.clinics import Attachment, Clinic, Period, PolicyCard, PolicyEvent, Visit
from gateway.domain.model import Insurer, Person, Policy, Source
from gateway.kz.domain import InsuranceStatus
from gateway.kz.ports import KzFundPort
from gateway.ports import (
    AttachmentRequest,
    BackendUnavailable,
    FundPort,
    Registration,
    RegistrationResult,
    RegistryPerson,
    Verification,
)

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until the cool-down ends
    HALF_OPEN = "half-open"  # one trial call is under way; its outcome closes or reopens the breaker


class CircuitBreaker:
    """Opens after `failures` technical failures in a row, lets one trial call through after `cooldown` seconds."""

    def __init__(
        self,
        name: str,
        failures: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self.failures = max(1, failures)
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cool-down is over reads as half-open)."""
        with self._lock:
            if self._opened_at is None:
                return BreakerState.CLOSED
            if self._trial or self.clock() - self._opened_at >= self.cooldown:
                return BreakerState.HALF_OPEN
            return BreakerState.OPEN

    def retry_after(self) -> float:
        """Seconds until a trial call is let through (0 when closed)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.cooldown - (self.clock() - self._opened_at))

    def call(self, source: Source, operation: str, action: Callable[[], T]) -> T:
        """Run `action` unless the breaker is open; an open breaker raises BackendUnavailable at once."""
        self._admit(source, operation)
        try:
            result = action()
        except BackendUnavailable:
            self._failed()
            raise
        except BaseException:
            # A refusal, a "not found" or a bug: the back-end answered, so it is up.
            self._succeeded()
            raise
        self._succeeded()
        return result

    def _admit(self, source: Source, operation: str) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            waited = self.clock() - self._opened_at
            if waited >= self.cooldown and not self._trial:
                self._trial = True  # this caller is the one trial; the others keep failing fast
                return
            # A trial already under way: ask the caller back in a second.
            remaining = max(1.0, self.cooldown - waited)
        raise BackendUnavailable(source, operation, f"circuit open ({self.name})", retry_after=remaining)

    def _failed(self) -> None:
        with self._lock:
            self._consecutive += 1
            if self._trial or self._consecutive >= self.failures:
                self._opened_at = self.clock()
            self._trial = False

    def _succeeded(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial = False


class GuardedFund:
    """The fund port behind a circuit breaker (for the API's reads; the workers use the bare port)."""

    def __init__(self, fund: FundPort, breaker: CircuitBreaker):
        self.inner = fund
        self.breaker = breaker

    def __getattr__(self, name: str) -> Any:
        # A transparent proxy: anything else (a fake's test helpers, say) is the wrapped port's.
        return getattr(self.inner, name)

    def _call(self, operation: str, action: Callable[[], T]) -> T:
        return self.breaker.call(Source.FUND, operation, action)

    def verify_person(self, message_id: str, person: Person, enp: str | None = None) -> Verification:
        """Check an applicant against the registry."""
        return self._call("VerifyPerson", lambda: self.inner.verify_person(message_id, person, enp))

    def find_person(self, message_id: str, enp: str) -> RegistryPerson | None:
        """The registry's record of the holder of an ЕНП, or None."""
        return self._call("FindPerson", lambda: self.inner.find_person(message_id, enp))

    def find_person_by_snils(self, message_id: str, snils: str) -> RegistryPerson | None:
        """The registry's record of the person with this СНИЛС, or None."""
        return self._call("FindPerson", lambda: self.inner.find_person_by_snils(message_id, snils))

    def insurance_status(self, message_id: str, enp: str) -> Policy:
        """The policy of an ЕНП today."""
        return self._call("InsuranceStatus", lambda: self.inner.insurance_status(message_id, enp))

    def register_policy(self, message_id: str, registration: Registration) -> RegistrationResult:
        """Record an application carried out by an insurer."""
        return self._call("RegisterPolicy", lambda: self.inner.register_policy(message_id, registration))

    def list_insurers(self, message_id: str, region_code: str) -> list[Insurer]:
        """Insurers admitted in a region today."""
        return self._call("ListInsurers", lambda: self.inner.list_insurers(message_id, region_code))

    def policy_history(self, message_id: str, enp: str) -> list[PolicyEvent]:
        """What happened to the policies of an ЕНП."""
        return self._call("PolicyHistory", lambda: self.inner.policy_history(message_id, enp))

    def visits(self, message_id: str, enp: str, period: Period) -> list[Visit]:
        """Care paid by ОМС in a period."""
        return self._call("Visits", lambda: self.inner.visits(message_id, enp, period))

    def list_clinics(self, message_id: str, region_code: str) -> list[Clinic]:
        """Clinics admitted in a region."""
        return self._call("ListClinics", lambda: self.inner.list_clinics(message_id, region_code))

    def attach_to_clinic(self, message_id: str, request: AttachmentRequest) -> Attachment:
        """Record a person's choice of a clinic."""
        return self._call("AttachToClinic", lambda: self.inner.attach_to_clinic(message_id, request))

    def attachment(self, message_id: str, enp: str) -> Attachment | None:
        """The clinic an ЕНП's holder is attached to, or None."""
        return self._call("Attachment", lambda: self.inner.attachment(message_id, enp))

    def policy_card(self, message_id: str, enp: str) -> PolicyCard:
        """The policy of an ЕНП and its holder's clinic."""
        return self._call("PolicyCard", lambda: self.inner.policy_card(message_id, enp))


class GuardedKzFund:
    """The Kazakh fund port behind a circuit breaker."""

    def __init__(self, fund: KzFundPort, breaker: CircuitBreaker):
        self.inner = fund
        self.breaker = breaker

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def insurance_status(self, message_id: str, iin: str) -> InsuranceStatus:
        """Whether the holder of an ИИН is insured in ОСМС today."""
        return self.breaker.call(Source.FUND, "InsuranceStatus", lambda: self.inner.insurance_status(message_id, iin))
