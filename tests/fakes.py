"""Fakes with state for the gateway's ports: a registry that remembers, insurers that issue, a store in memory."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from gateway.domain.applications import Application
from gateway.domain.model import Holder, Insurer, Person, Policy, PolicyStatus, Source
from gateway.ports import (
    BackendRefusal,
    BackendUnavailable,
    Claim,
    ConcurrentUpdate,
    IdempotencyKey,
    InsurerApplication,
    InsurerResult,
    NotFound,
    Page,
    Registration,
    RegistrationResult,
    RegistryPerson,
    Reservation,
    ReservationState,
    Verification,
)


class Outage:
    """Make the next `count` calls of an operation fail as an outage (or a refusal)."""

    def __init__(self) -> None:
        self.failures: dict[str, list[Exception]] = {}

    def fail(self, operation: str, error: Exception, count: int = 1) -> None:
        self.failures.setdefault(operation, []).extend([error] * count)

    def check(self, operation: str) -> None:
        pending = self.failures.get(operation)
        if pending:
            raise pending.pop(0)


def unavailable(source: Source, operation: str) -> BackendUnavailable:
    return BackendUnavailable(source, operation, "connection refused")


@dataclass
class FakeFund(Outage):
    """A registry in memory: persons by ЕНП, policies, registrations by message id."""

    persons: dict[str, tuple[Person, Policy | None]] = field(default_factory=dict)
    registrations: dict[str, RegistrationResult] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        Outage.__init__(self)

    def _by_snils(self, snils: str | None) -> tuple[str, Person, Policy | None] | None:
        for enp, (person, policy) in self.persons.items():
            if snils and person.snils == snils:
                return enp, person, policy
        return None

    def verify_person(self, message_id: str, person: Person, enp: str | None = None) -> Verification:
        self.calls.append("verify_person")
        self.check("verify_person")
        found = (enp, *self.persons[enp]) if enp in self.persons else self._by_snils(person.snils)
        if found is None:
            return Verification(known=False)
        return Verification(known=True, enp=found[0], policy=found[2])

    def find_person(self, message_id: str, enp: str) -> RegistryPerson | None:
        self.calls.append("find_person")
        self.check("find_person")
        if enp not in self.persons:
            return None
        person, policy = self.persons[enp]
        return RegistryPerson(
            last_name=person.last_name,
            first_name=person.first_name,
            middle_name=person.middle_name,
            birth_date=person.birth_date,
            sex=person.sex,
            citizenship=person.citizenship,
            identity_document=person.identity_document,
            snils=person.snils,
            enp=enp,
            policy=policy,
        )

    def find_person_by_snils(self, message_id: str, snils: str) -> RegistryPerson | None:
        self.calls.append("find_person_by_snils")
        self.check("find_person_by_snils")
        found = self._by_snils(snils)
        return None if found is None else self.find_person(message_id, found[0])

    def insurance_status(self, message_id: str, enp: str) -> Policy:
        self.calls.append("insurance_status")
        self.check("insurance_status")
        if enp not in self.persons or self.persons[enp][1] is None:
            raise NotFound(enp)
        policy = self.persons[enp][1]
        assert policy is not None
        return policy

    def register_policy(self, message_id: str, registration: Registration) -> RegistrationResult:
        self.calls.append("register_policy")
        self.check("register_policy")
        if message_id in self.registrations:
            return self.registrations[message_id]
        enp = registration.enp or f"77{next(self.serial):013d}0"
        person = registration.person
        policy = Policy(
            enp=enp,
            status=PolicyStatus.ACTIVE,
            insurer_code=registration.insurer_code,
            region_code=registration.region_code,
            policy_form=registration.policy_form,
            valid_from=registration.application_date,
            holder=Holder(person.last_name, person.first_name, person.birth_date, person.sex, person.middle_name),
        )
        self.persons[enp] = (person, policy)
        result = RegistrationResult(f"RG-{len(self.registrations) + 1}", enp, registration.enp is None, policy)
        self.registrations[message_id] = result
        return result

    def list_insurers(self, message_id: str, region_code: str) -> list[Insurer]:
        self.calls.append("list_insurers")
        self.check("list_insurers")
        return [Insurer("77001", "СМО 77001", "77", ("electronic", "paper", "plastic"))] if region_code == "77" else []


@dataclass
class FakeInsurer(Outage):
    code: str
    forms: tuple[str, ...] = ("electronic", "paper", "plastic")
    issued: dict[str, InsurerResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Outage.__init__(self)

    def _carry_out(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        if message_id not in self.issued:
            if application.policy_form not in self.forms:
                raise BackendRefusal(Source.INSURER, "POLICY_FORM_NOT_ISSUED", "нет такой формы", "policy_form")
            self.issued[message_id] = InsurerResult(
                f"{self.code}-{len(self.issued) + 1}", "executed", application.policy_form, application.application_date
            )
        return self.issued[message_id]

    def issue_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        self.check("issue_policy")
        return self._carry_out(message_id, application)

    def replace_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        self.check("replace_policy")
        return self._carry_out(message_id, application)

    def application_state(self, message_id: str, application_message_id: str) -> InsurerResult | None:
        return self.issued.get(application_message_id)


@dataclass
class FakeInsurers:
    ports: dict[str, FakeInsurer]

    def get(self, code: str) -> FakeInsurer | None:
        return self.ports.get(code)

    def codes(self) -> frozenset[str]:
        return frozenset(self.ports)


@dataclass
class Entry:
    available_at: datetime
    attempts: int = 0
    claimed_by: str | None = None
    lease_until: datetime | None = None


class FakeStore:
    """ApplicationStore in memory, with versions, an outbox and idempotency keys."""

    def __init__(self) -> None:
        self.applications: dict[str, Application] = {}
        self.outbox: dict[str, Entry] = {}
        self.keys: dict[tuple[str, str], dict[str, object]] = {}
        self.lock = threading.Lock()

    def reserve(self, key: IdempotencyKey, now: datetime) -> Reservation:
        with self.lock:
            found = self.keys.get((key.owner_sub, key.key))
            if found is None:
                self.keys[(key.owner_sub, key.key)] = {"fingerprint": key.fingerprint, "state": "in_progress"}
                return Reservation(ReservationState.NEW)
            if found["fingerprint"] != key.fingerprint:
                return Reservation(ReservationState.MISMATCH)
            if found["state"] == "in_progress":
                return Reservation(ReservationState.IN_PROGRESS)
            return Reservation(
                ReservationState.REPLAY,
                found["status_code"],  # type: ignore[arg-type]
                found["body"],  # type: ignore[arg-type]
                found["application_id"],  # type: ignore[arg-type]
            )

    def finish(self, key: IdempotencyKey, status_code: int, body: str, application_id: str | None) -> None:
        self.keys[(key.owner_sub, key.key)].update(
            state="done", status_code=status_code, body=body, application_id=application_id
        )

    def release(self, key: IdempotencyKey) -> None:
        self.keys.pop((key.owner_sub, key.key), None)

    def add(self, application: Application, key: IdempotencyKey | None, answer: str | None) -> None:
        with self.lock:
            self.applications[application.id] = application
            self.outbox[application.id] = Entry(application.created_at)
        if key is not None:
            self.finish(key, 202, answer or "", application.id)

    def get(self, application_id: str) -> Application | None:
        return self.applications.get(application_id)

    def list_for_owner(self, owner_sub: str, limit: int, cursor: str | None) -> Page:
        mine = sorted(
            (a for a in self.applications.values() if a.owner.sub == owner_sub),
            key=lambda a: (a.created_at, a.id),
            reverse=True,
        )
        start = int(cursor) if cursor else 0
        items = mine[start : start + limit]
        more = start + limit < len(mine)
        return Page(items, str(start + limit) if more else None)

    def owner_enps(self, owner_sub: str) -> frozenset[str]:
        return frozenset(a.enp for a in self.applications.values() if a.owner.sub == owner_sub and a.enp is not None)

    def save(self, application: Application, next_attempt_at: datetime | None) -> None:
        with self.lock:
            stored = self.applications[application.id]
            if stored.version != application.version:
                raise ConcurrentUpdate(application.id, application.version)
            self.applications[application.id] = replace(application, version=application.version + 1)
            if next_attempt_at is None:
                self.outbox.pop(application.id, None)
            else:
                # As the real store: progress starts the count of failures in a row again.
                self.outbox[application.id] = Entry(next_attempt_at)

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, limit: int) -> list[Claim]:
        with self.lock:
            due = [
                (app_id, entry)
                for app_id, entry in self.outbox.items()
                if entry.available_at <= now and (entry.lease_until is None or entry.lease_until < now)
            ]
            due.sort(key=lambda item: item[1].available_at)
            claims = []
            for app_id, entry in due[:limit]:
                entry.claimed_by, entry.lease_until = worker_id, now + timedelta(seconds=lease_seconds)
                claims.append(Claim(app_id, entry.attempts))
            return claims

    def retry_later(self, application: Application, at: datetime, error: str) -> None:
        attempts = self.outbox[application.id].attempts + 1 if application.id in self.outbox else 1
        self.save(application, at)
        self.outbox[application.id].attempts = attempts


def today_at(day: date) -> datetime:
    """A UTC noon on a day: a clock for tests."""
    from datetime import UTC

    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
