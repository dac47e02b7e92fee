"""Carrying an application through the back-ends: verify at the fund, issue at the insurer, register at the fund.

Each step is idempotent: the application id is the message id of every back-end call, so a step repeated after a
crash or a timeout is the same request and never registers or issues twice. An outage is retried with backoff
and never becomes a rejection; a business refusal becomes a catalogue reason; any other failure of a step, which
would repeat on every attempt, ends the application: refused for texts no message can carry, else stalled.
"""

from __future__ import annotations

import logging
import random
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.catalogue import Catalogue
from gateway.domain.applications import Application, Step
from gateway.domain.calendar import application_date, moscow_date
from gateway.domain.eligibility import mother_to_ask, mothers_insurer_violation
from gateway.domain.model import ApplicationStatus, NewPolicyRequest, Relation, Source, Violation
from gateway.domain.reference import Reference
from gateway.domain.registry import (
    Proceed,
    Refusal,
    insurer_application,
    insurer_declined,
    issued_policy,
    new_policy_decision,
    registration,
    replacement_decision,
)
from gateway.domain.text import carriage_violations
from gateway.ports import ApplicationStore, BackendRefusal, BackendUnavailable, FundRegistry, Insurers
from gateway.usecases.errors import InputRejected
from gateway.usecases.refusals import reason_of

log = logging.getLogger(__name__)

Status = ApplicationStatus

# History notes of an application parked after too many attempts, and of an operator resuming it.
STALLED_NOTE = "обработка приостановлена"
RESUMED_NOTE = "возобновлено оператором"

# What became of an application a step failed for a reason that repeats on every attempt (Processor.unprocessable).
REFUSED, STALLED = "refused", "stalled"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter and a ceiling; parked after `max_attempts` failures in a row."""

    base_seconds: float = 1.0
    max_seconds: float = 300.0
    max_attempts: int = 20

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before attempt number `attempts + 1`."""
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** min(attempts, 30))
        # Never less than half the step, so a herd of retries spreads out but still backs off.
        return ceiling / 2 + rng() * ceiling / 2


@dataclass
class Processor:
    """Runs the next step of one application."""

    store: ApplicationStore
    fund: FundRegistry
    insurers: Insurers
    catalogue: Catalogue
    clock: Callable[[], datetime]
    retry: RetryPolicy = RetryPolicy()
    reference: Reference | None = None
    # Told REFUSED or STALLED for each application a step failed for good (the metrics count them).
    unprocessable: Callable[[str], None] = lambda outcome: None

    def run(self, application_id: str, attempts: int = 0) -> Application | None:
        """Carry the application as far as it can go now, storing it after every step; returns its last state.

        `attempts` counts the failures in a row of the step it is at. Every step is stored before the next
        runs, and every back-end call is idempotent by the application id, so a crash between two steps only
        repeats the step whose result was not stored. The application's outbox entry stays leased to this
        worker until it is done, refused, or has to wait for a back-end.
        """
        application = self.store.get(application_id)
        if application is None:
            return None
        if application.status.is_final:
            self.store.save(application, None)
            return application
        if application.status is Status.ACCEPTED:
            # Nothing to ask anyone: the check at the fund begins at once, and is stored with its outcome.
            application = application.move(Status.VERIFYING, Step.VERIFY, self.clock())
        while True:
            try:
                moved = self._step(application)
            except InputRejected as refused:
                rejected = application.reject(refused.reasons, self.clock())
                self.store.save(rejected, None)
                log.info("application %s rejected: %s", application.id, refused)
                return rejected
            except BackendUnavailable as outage:
                return self._retry_later(application, attempts, outage)
            except Exception as error:
                # Neither a refusal nor an outage: a message that cannot be built (lxml's ValueError for a NUL),
                # a bug. It fails the same way on every attempt, so retrying it would keep it unfinished forever.
                return self._cannot_carry(application, attempts, error)
            if moved.step is Step.DONE:
                self.store.save(moved, None)
                return moved
            application = self.store.advance(moved, failures_cleared=attempts > 0)
            attempts = 0

    def _retry_later(self, application: Application, attempts: int, outage: BackendUnavailable) -> Application:
        now = self.clock()
        source = "фонд ОМС" if outage.source is Source.FUND else "страховая медицинская организация"
        error = f"{outage.source}:{outage.operation}"
        if attempts + 1 >= self.retry.max_attempts:
            # Never dropped: parked until an operator resumes it (`epolicy retry`), and the citizen sees it.
            note = f"{STALLED_NOTE}: {source} недоступен ({outage.operation}) после {attempts + 1} попыток"
            stalled = application.stall(now, note)
            self.store.stall(stalled, now, error)
            log.error("application %s stalled after %d attempts: %s", application.id, attempts + 1, outage)
            return stalled
        delay = self.retry.delay(attempts)
        note = f"{source} временно недоступен ({outage.operation}); повтор № {attempts + 1} через {delay:.0f} с"
        waiting = application.note_retry(now, note)
        self.store.retry_later(waiting, now + timedelta(seconds=delay), error)
        log.warning("application %s: %s, retry %d in %.1f s", application.id, outage, attempts + 1, delay)
        return waiting

    def _cannot_carry(self, application: Application, attempts: int, error: Exception) -> Application:
        now = self.clock()
        step = application.step.value
        # Texts a SOAP message cannot carry (stored before the API refused them; lxml raises ValueError for them)
        # are the citizen's to correct: refused, naming the fields, as the API refuses them now; unless the insurer
        # has issued already.
        carriable = not isinstance(error, ValueError) or application.step is Step.REGISTER
        wrong = [] if carriable else carriage_violations(application.request)
        if wrong:
            rejected = application.reject(tuple(self.catalogue.reason(violation) for violation in wrong), now)
            self.store.save(rejected, None)
            log.warning("application %s rejected: step %s cannot carry its texts (%s)", application.id, step,
                        type(error).__name__)  # fmt: skip
            self.unprocessable(REFUSED)
            return rejected
        # Anything else is for an operator: parked at once, shown by `epolicy stalled` with its cause.
        kind = type(error).__name__
        stalled = application.stall(now, f"{STALLED_NOTE}: внутренняя ошибка шлюза на шаге {step} ({kind})")
        self.store.stall(stalled, now, f"gateway:{step}:{kind}")
        log.error("application %s stalled: %s at step %s after %d failures\n%s", application.id, kind, step,
                  attempts, frames_of(error))  # fmt: skip
        self.unprocessable(STALLED)
        return stalled

    def _step(self, application: Application) -> Application:
        if application.step is Step.VERIFY:
            return self._verify(application)
        if application.step is Step.ISSUE:
            return self._issue(application)
        if application.step is Step.REGISTER:
            return self._register(application)
        return application

    # --- verify ----------------------------------------------------------------------------------------------

    def _verify(self, application: Application) -> Application:
        with self._refusals():
            decision = self._decide(application)
        if isinstance(decision, Refusal):
            raise self._rejected(decision)
        application = application.with_progress(
            enp=decision.enp,
            registry_type=decision.type,
            registry_reason=decision.reason,
            insurer_code=decision.insurer_code,
            region_code=decision.region_code,
            person=decision.person,
        )
        return application.move(Status.ISSUING, Step.ISSUE, self.clock())

    def _decide(self, application: Application) -> Proceed | Refusal:
        request = application.request
        if isinstance(request, NewPolicyRequest):
            if request.relation is Relation.CHILD:
                self._check_mothers_insurer(application, request)
            return new_policy_decision(request, self.fund.verify_person(application.id, request.person))
        record = self.fund.find_person(application.id, request.enp)
        on, today = application_date(application.created_at), moscow_date(self.clock())
        decision = replacement_decision(request, record, on, today, self.reference)
        if isinstance(decision, Proceed):
            # The fund checks the person as the replacement makes them.
            self.fund.verify_person(application.id, decision.person, request.enp)
        return decision

    def _check_mothers_insurer(self, application: Application, request: NewPolicyRequest) -> None:
        # A newborn stays with the mother's insurer for 30 days after the birth is registered (gateway.domain).
        on = application_date(application.created_at)
        snils = mother_to_ask(request, on)
        if snils is None:
            return
        mother = self.fund.find_person_by_snils(application.id, snils)
        violation = mothers_insurer_violation(
            request, on, mother.person.sex if mother else None, mother.policy if mother else None
        )
        if violation is not None:
            raise self._rejected(Refusal((violation,), Source.GATEWAY))

    # --- issue and register ----------------------------------------------------------------------------------

    def _issue(self, application: Application) -> Application:
        insurer = self.insurers.get(application.progress.insurer_code or "")
        if insurer is None:
            raise self._rejected(Refusal((Violation("INSURER_UNKNOWN", "insurer_code"),), Source.GATEWAY))
        request = insurer_application(application)
        with self._refusals():
            if request.type is None:
                result = insurer.issue_policy(application.id, request)
            else:
                result = insurer.replace_policy(application.id, request)
            if insurer_declined(result):
                # Declined in the answer, not by a fault: still a refusal the user must see, and nothing to register.
                raise BackendRefusal(
                    Source.INSURER, "APPLICATION_REJECTED", "Заявление отклонено страховой организацией"
                )
        application = application.with_progress(insurer_application_id=result.insurer_application_id)
        return application.move(Status.ISSUING, Step.REGISTER, self.clock())

    def _register(self, application: Application) -> Application:
        recorded = registration(application)
        with self._refusals():
            result = self.fund.register_policy(application.id, recorded)
        return application.with_progress(enp=result.enp).issue(issued_policy(recorded, result), self.clock())

    # --- refusals --------------------------------------------------------------------------------------------

    def _rejected(self, refusal: Refusal) -> InputRejected:
        """A refusal in the catalogue's words: the gateway's own rules as they are, a back-end's with its source."""
        if refusal.source is Source.GATEWAY:
            return InputRejected(tuple(self.catalogue.reason(violation) for violation in refusal.violations))
        return InputRejected(
            tuple(
                self.catalogue.backend_reason(refusal.source, v.code, self.catalogue.entry(v.code).message, v.field)
                for v in refusal.violations
            )
        )

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """A back-end's business fault becomes a rejection with its catalogue reason (gateway.usecases.refusals)."""
        try:
            yield
        except BackendRefusal as refusal:
            raise InputRejected((reason_of(refusal, self.catalogue),)) from refusal


def resume(store: ApplicationStore, application_id: str, now: datetime) -> Application | None:
    """Make a stalled (or any unfinished) application due now with its attempts reset; None if none or final."""
    application = store.get(application_id)
    if application is None or application.status.is_final:
        return None
    resumed = application.resume(now, RESUMED_NOTE)
    store.resume(resumed, now)
    return resumed


def frames_of(error: BaseException) -> str:
    """Where an exception was raised, frame by frame, without its message: a message may quote the data it failed
    on (a name, a СНИЛС, the parameters of an SQL statement), and personal data stays out of the logs."""
    return "".join(traceback.format_tb(error.__traceback__))


def utc_now() -> datetime:
    """The clock of production: aware UTC."""
    return datetime.now(UTC)
