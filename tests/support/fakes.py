"""Fakes with state for the gateway's ports: a registry that remembers, insurers that issue, a store in memory."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from gateway.domain.applications import Application
from gateway.domain.clinics import (
    Attachment,
    AttachmentReason,
    Clinic,
    Period,
    PolicyCard,
    PolicyEvent,
    PolicyEventType,
    Visit,
)
from gateway.domain.identifiers import enp_check_digit, enp_facet, snils_violations
from gateway.domain.model import (
    ApplicationKind,
    ApplicationStatus,
    Holder,
    Insurer,
    InsurerState,
    Person,
    Policy,
    PolicyStatus,
    Reason,
    RegistryApplicationType,
    RegistryPolicyForm,
    Sex,
    Source,
)
from gateway.domain.registry import (
    AttachmentRequest,
    InsurerApplication,
    InsurerResult,
    Registration,
    RegistrationResult,
    RegistryPerson,
    Verification,
)
from gateway.kz.ports import InsuranceStatus
from gateway.ports import (
    ApplicationInFlight,
    BackendRefusal,
    BackendUnavailable,
    Claim,
    ConcurrentUpdate,
    IdempotencyKey,
    Idle,
    NotFound,
    OutboxStats,
    Page,
    Reservation,
    ReservationState,
    Stalled,
    cursor_position,
    page_cursor,
)
from gateway.storage.store import MAX_PAGE_SIZE, STALE_RESERVATION
from gateway.storage.tables import LAST_ERROR_LENGTH


def new_enp(region_code: str, birth_date: date, sex: Sex, serial: int) -> str:
    """An ЕНП as the fund makes one: region, birth facet, serial, check digit (the mock fund's rule)."""
    body = f"{region_code}{enp_facet(birth_date, sex)}{serial:05d}"
    return body + enp_check_digit(body)


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


def a_year_after(day: date) -> date:
    """The same day a year later; 29 February falls on 28 February, as the fund counts a term in years."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 2, 28)


def fake_insurers() -> list[Insurer]:
    """The insurers the mocks admit today: two in region 77, one in 50 (fake_fund_like_the_mocks: their names)."""
    return [
        Insurer("77001", "СМО 77001", "77", ("electronic", "paper", "plastic")),
        Insurer("77002", "СМО 77002", "77", ("electronic", "paper", "plastic")),
        Insurer("50001", "СМО 50001", "50", ("electronic", "paper")),
    ]


def fake_clinics() -> dict[str, Clinic]:
    """Two open clinics and a full one in region 77, one in region 50."""
    return {
        clinic.code: clinic
        for clinic in (
            Clinic("770101", "Поликлиника № 301", "77", True, "г. Москва, ул. Примерная, д. 1"),
            Clinic("770102", "Поликлиника № 302", "77", True),
            Clinic("770103", "Поликлиника № 303", "77", False),
            Clinic("500101", "Больница № 1", "50", True),
        )
    }


def _check_snils(person: Person) -> None:
    """The fund's format-logical control of a СНИЛС, as far as the gateway relies on it."""
    for violation in [] if person.snils is None else snils_violations(person.snils):
        raise BackendRefusal(Source.FUND, violation.code, "СНИЛС не прошёл проверку", violation.field)


_EVENT_OF_REPLACEMENT = {
    RegistryApplicationType.REISSUE: PolicyEventType.REISSUED,
    RegistryApplicationType.DUPLICATE: PolicyEventType.DUPLICATE_ISSUED,
    RegistryApplicationType.DATA_CHANGE: PolicyEventType.DATA_CHANGED,
}


def _event_of(registration: Registration, previous: Policy | None) -> PolicyEventType:
    """The history event a registration makes, as the fund names it."""
    if registration.type is not RegistryApplicationType.INSURER_CHOICE:
        return _EVENT_OF_REPLACEMENT[registration.type]
    if previous is None or not _in_force(previous, registration.application_date):
        return PolicyEventType.ISSUED
    return PolicyEventType.INSURER_CHANGED


def _in_force(policy: Policy, day: date) -> bool:
    return (
        policy.status is PolicyStatus.ACTIVE
        and policy.valid_from <= day
        and (policy.valid_to is None or day <= policy.valid_to)
    )


@dataclass
class FakeFund(Outage):
    """A registry in memory: persons by ЕНП, policies, registrations by message id."""

    persons: dict[str, tuple[Person, Policy | None]] = field(default_factory=dict)
    registrations: dict[str, RegistrationResult] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Policy history, clinics, attachments (current by ЕНП, made by message id) and visits by ЕНП.
    events: dict[str, list[PolicyEvent]] = field(default_factory=dict)
    clinics: dict[str, Clinic] = field(default_factory=fake_clinics)
    insurers: list[Insurer] = field(default_factory=fake_insurers)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    attached: dict[str, Attachment] = field(default_factory=dict)
    visit_log: dict[str, list[Visit]] = field(default_factory=dict)
    choices: dict[str, date] = field(default_factory=dict)  # the day of each ЕНП's last attachment by choice

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
        _check_snils(person)
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
        # The registry records no birth place, ИНН, residence document or stated category.
        recorded = replace(person, birth_place=None, inn=None, residence_document=None, category=None)
        return RegistryPerson(recorded, enp=enp, policy=policy)

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
        person = registration.person
        previous = self.persons[registration.enp][1] if registration.enp in self.persons else None
        _check_snils(person)
        if registration.insurer_code not in {i.code for i in self.list_insurers(message_id, registration.region_code)}:
            raise BackendRefusal(Source.FUND, "INSURER_NOT_ADMITTED", "СМО не допущена в регионе", "insurer_code")
        enp = registration.enp or new_enp(registration.region_code, person.birth_date, person.sex, next(self.serial))
        policy = Policy(
            enp=enp,
            status=PolicyStatus.ACTIVE,
            insurer_code=registration.insurer_code,
            region_code=registration.region_code,
            policy_form=RegistryPolicyForm(registration.policy_form),
            valid_from=registration.application_date,
            holder=Holder(person.last_name, person.first_name, person.birth_date, person.sex, person.middle_name),
        )
        self.persons[enp] = (person, policy)
        registration_id = f"RG-{registration.application_date:%Y%m%d}-{len(self.registrations) + 1:06d}"
        result = RegistrationResult(registration_id, enp, registration.enp is None, policy)
        self.registrations[message_id] = result
        event_type = _event_of(registration, previous)
        event = PolicyEvent(
            registration.application_date,
            event_type,
            policy.insurer_code,
            policy.region_code,
            policy.policy_form,
            registration.reason.value,
        )
        self.events.setdefault(enp, []).append(event)
        return result

    def list_insurers(self, message_id: str, region_code: str) -> list[Insurer]:
        self.calls.append("list_insurers")
        self.check("list_insurers")
        return sorted((i for i in self.insurers if i.region_code == region_code), key=lambda insurer: insurer.code)

    def _known_policy(self, enp: str) -> Policy | None:
        if enp not in self.persons:
            raise NotFound(enp)
        return self.persons[enp][1]

    def policy_history(self, message_id: str, enp: str) -> list[PolicyEvent]:
        self.calls.append("policy_history")
        self.check("policy_history")
        policy = self._known_policy(enp)
        if enp in self.events:
            return list(self.events[enp])
        if policy is None:
            return []
        issued = PolicyEvent(
            policy.valid_from, PolicyEventType.ISSUED, policy.insurer_code, policy.region_code, policy.policy_form
        )
        return [issued]

    def visits(self, message_id: str, enp: str, period: Period) -> list[Visit]:
        self.calls.append("visits")
        self.check("visits")
        self._known_policy(enp)
        if period.start is not None and period.end is not None and period.start > period.end:
            raise BackendRefusal(Source.FUND, "VISITS_PERIOD_INVALID", "начало периода позже окончания")
        return [
            visit
            for visit in self.visit_log.get(enp, [])
            if (period.start is None or visit.date >= period.start) and (period.end is None or visit.date <= period.end)
        ]

    def list_clinics(self, message_id: str, region_code: str) -> list[Clinic]:
        self.calls.append("list_clinics")
        self.check("list_clinics")
        return sorted((c for c in self.clinics.values() if c.region_code == region_code), key=lambda c: c.code)

    def attach_to_clinic(self, message_id: str, request: AttachmentRequest) -> Attachment:
        self.calls.append("attach_to_clinic")
        self.check("attach_to_clinic")
        if message_id in self.attached:
            return self.attached[message_id]
        policy = self._known_policy(request.enp)
        clinic = self.clinics.get(request.clinic_code)
        current = self.attachments.get(request.enp)
        # The checks in the fund's order: the clinic, the policy in force, its region, the clinic held, the year.
        if clinic is None:
            raise BackendRefusal(Source.FUND, "CLINIC_UNKNOWN", "нет такой организации")
        if policy is None or not _in_force(policy, request.application_date):
            raise BackendRefusal(Source.FUND, "POLICY_NOT_ACTIVE", "полис не действует", "enp")
        if clinic.region_code != policy.region_code:
            raise BackendRefusal(Source.FUND, "CLINIC_OTHER_REGION", "организация другого региона")
        if current is not None and current.clinic_code == clinic.code:
            raise BackendRefusal(Source.FUND, "CLINIC_ALREADY_ATTACHED", "уже прикреплён")
        # A year from the last attachment by choice, whatever came after it (a relocation does not count).
        last_choice = self.choices.get(request.enp)
        if last_choice is not None and request.reason is AttachmentReason.CHOICE:
            allowed_from = a_year_after(last_choice)
            if request.application_date < allowed_from:
                raise BackendRefusal(Source.FUND, "CLINIC_CHANGE_LIMIT", "раз в год", None, allowed_from)
        if not clinic.accepts_attachment:
            raise BackendRefusal(Source.FUND, "CLINIC_FULL", "мест нет")
        attachment = Attachment(
            request.enp,
            clinic.code,
            clinic.name,
            request.application_date,
            request.reason,
            f"AT-{len(self.attached) + 1}",
        )
        self.attachments[request.enp] = self.attached[message_id] = attachment
        if request.reason is AttachmentReason.CHOICE:
            self.choices[request.enp] = request.application_date
        return attachment

    def policy_card(self, message_id: str, enp: str) -> PolicyCard:
        self.calls.append("policy_card")
        # The card holds the status: a failure set for the status read fails the card too.
        for operation in ("policy_card", "insurance_status"):
            self.check(operation)
        if enp not in self.persons or self.persons[enp][1] is None:
            raise NotFound(enp)
        policy = self.persons[enp][1]
        assert policy is not None
        return PolicyCard(policy, self.attachments.get(enp))


@dataclass
class FakeInsurer(Outage):
    code: str
    forms: tuple[str, ...] = ("electronic", "paper", "plastic")
    issued: dict[str, InsurerResult] = field(default_factory=dict)
    answers: InsurerState = InsurerState.EXECUTED  # the state every application is answered with

    def __post_init__(self) -> None:
        Outage.__init__(self)

    def _carry_out(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        if message_id not in self.issued:
            if application.policy_form not in self.forms:
                raise BackendRefusal(Source.INSURER, "POLICY_FORM_NOT_ISSUED", "нет такой формы", "policy_form")
            self.issued[message_id] = InsurerResult(
                f"{self.code}-{len(self.issued) + 1}",
                self.answers,
                RegistryPolicyForm(application.policy_form),
                application.application_date,
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
    stalled_at: datetime | None = None
    last_error: str | None = None


@dataclass
class Key:
    """An Idempotency-Key as the store keeps it."""

    fingerprint: str
    made_at: datetime
    state: str = "in_progress"
    application_id: str | None = None  # done: accepted with this application, or
    reasons: tuple[Reason, ...] = ()  # refused with these reasons


def _utc(value: datetime) -> datetime:
    """A time as the SQL store gives it back: aware and in UTC; a naive one is refused as it refuses it."""
    if value.tzinfo is None:
        raise ValueError(f"a naive datetime would be ambiguous in the database: {value!r}")
    return value.astimezone(UTC)


def _as_stored(application: Application, version: int) -> Application:
    """A copy of the application as the SQL store reads it back: its times in UTC, at the stored version."""
    return replace(
        application,
        created_at=_utc(application.created_at),
        updated_at=_utc(application.updated_at),
        history=tuple(replace(entry, at=_utc(entry.at)) for entry in application.history),
        version=version,
    )


class FakeStore:
    """ApplicationStore in memory, with versions, an outbox and idempotency keys.

    It answers as `SqlApplicationStore` does: tests/integration/storage runs the same tests against both.
    """

    def __init__(self, *, stale_reservation: timedelta = STALE_RESERVATION) -> None:
        self.applications: dict[str, Application] = {}
        self.outbox: dict[str, Entry] = {}
        self.keys: dict[tuple[str, str], Key] = {}
        self.stale_reservation = stale_reservation
        self.lock = threading.RLock()

    # --- idempotency keys ---------------------------------------------------------------------------------

    def purge_idempotency_keys(self, made_before: datetime) -> int:
        with self.lock:
            old = [name for name, found in self.keys.items() if found.made_at < _utc(made_before)]
            for name in old:
                del self.keys[name]
            return len(old)

    def reserve(self, key: IdempotencyKey, now: datetime) -> Reservation:
        with self.lock:
            found = self.keys.get((key.owner_sub, key.key))
            if found is None:
                self.keys[(key.owner_sub, key.key)] = Key(key.fingerprint, _utc(now))
                return Reservation(ReservationState.NEW)
            if found.fingerprint != key.fingerprint:
                return Reservation(ReservationState.MISMATCH)
            if found.state == "done":
                return Reservation(ReservationState.REPLAY, found.application_id, found.reasons)
            if now - found.made_at < self.stale_reservation:
                return Reservation(ReservationState.IN_PROGRESS)
            found.made_at = _utc(now)  # a request that crashed: this retry takes its key over
            return Reservation(ReservationState.NEW)

    def finish(self, key: IdempotencyKey, reasons: tuple[Reason, ...]) -> None:
        with self.lock:
            self._remember(key, None, reasons, datetime.now(UTC))

    def _remember(
        self, key: IdempotencyKey, application_id: str | None, reasons: tuple[Reason, ...], at: datetime
    ) -> None:
        """Mark a reserved key done with what its request came to; a key never reserved is recorded done at once."""
        found = self.keys.get((key.owner_sub, key.key))
        if found is None:
            found = self.keys[(key.owner_sub, key.key)] = Key(key.fingerprint, _utc(at))
        elif found.fingerprint != key.fingerprint:
            raise ValueError(f"the key {key.key!r} is held with another fingerprint")  # the SQL store's IntegrityError
        found.state, found.application_id, found.reasons = "done", application_id, tuple(reasons)

    def release(self, key: IdempotencyKey) -> None:
        with self.lock:
            found = self.keys.get((key.owner_sub, key.key))
            if found is not None and found.fingerprint == key.fingerprint and found.state == "in_progress":
                del self.keys[(key.owner_sub, key.key)]

    # --- applications -------------------------------------------------------------------------------------

    def add(self, application: Application, key: IdempotencyKey | None = None) -> None:
        with self.lock:
            if application.id in self.applications:
                raise ValueError(f"application {application.id} is there already")  # the SQL store's IntegrityError
            if application.kind is ApplicationKind.REPLACEMENT and any(
                other.kind is ApplicationKind.REPLACEMENT and other.enp == application.enp and not other.status.is_final
                for other in self.applications.values()
            ):
                raise ApplicationInFlight(str(application.enp))
            stored = _as_stored(application, application.version)
            self.applications[application.id] = stored
            self.outbox[application.id] = Entry(stored.updated_at)
            if key is not None:
                self._remember(key, application.id, (), stored.created_at)

    def get(self, application_id: str) -> Application | None:
        with self.lock:
            found = self.applications.get(application_id)
            return None if found is None else replace(found)

    def list_for_owner(self, owner_sub: str, limit: int, cursor: str | None) -> Page:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be within 1..{MAX_PAGE_SIZE}, not {limit}")
        after = None if cursor is None else cursor_position(cursor)
        with self.lock:
            mine = sorted(
                (a for a in self.applications.values() if a.owner.sub == owner_sub),
                key=lambda a: (a.created_at, a.id),
                reverse=True,
            )
        if after is not None:
            mine = [a for a in mine if (a.created_at, a.id) < after]
        items = [replace(a) for a in mine[:limit]]
        return Page(items, page_cursor(items[-1]) if len(mine) > limit else None)

    def granted_enps(self, owner_sub: str) -> frozenset[str]:
        with self.lock:
            return frozenset(
                a.enp
                for a in self.applications.values()
                if a.owner.sub == owner_sub and a.status is ApplicationStatus.ISSUED and a.enp is not None
            )

    def policy_changed_at(self, enp: str) -> datetime | None:
        with self.lock:
            return max((a.updated_at for a in self.applications.values() if a.enp == enp), default=None)

    def _update(self, application: Application) -> Application:
        """Store the new state if nobody else did since `application` was read; returns it as stored."""
        stored = self.applications.get(application.id)
        if stored is None or stored.version != application.version:
            raise ConcurrentUpdate(application.id, application.version)
        updated = _as_stored(application, application.version + 1)
        self.applications[application.id] = updated
        return updated

    def _schedule(self, application_id: str, at: datetime, failed_with: str | None = None) -> Entry:
        """Make the outbox entry due at `at`, its lease freed; a failure counts one more, a success starts again."""
        entry = self.outbox.get(application_id)
        attempts = 0 if failed_with is None else (entry.attempts if entry is not None else 0) + 1
        last_error = None if failed_with is None else failed_with[:LAST_ERROR_LENGTH]
        self.outbox[application_id] = Entry(_utc(at), attempts, last_error=last_error)
        return self.outbox[application_id]

    def save(self, application: Application, next_attempt_at: datetime | None) -> None:
        with self.lock:
            self._update(application)
            if next_attempt_at is None:
                self.outbox.pop(application.id, None)
            else:
                self._schedule(application.id, next_attempt_at)

    # --- the outbox ---------------------------------------------------------------------------------------

    def advance(self, application: Application, *, failures_cleared: bool = False) -> Application:
        with self.lock:
            advanced = self._update(application)
            entry = self.outbox.get(application.id)
            if failures_cleared and entry is not None:
                entry.attempts, entry.last_error = 0, None
            return replace(advanced)

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, limit: int) -> list[Claim]:
        with self.lock:
            due = sorted(
                (
                    (entry.available_at, app_id, entry)
                    for app_id, entry in self.outbox.items()
                    if entry.available_at <= now
                    and entry.stalled_at is None
                    and (entry.lease_until is None or entry.lease_until < now)
                ),
                key=lambda item: item[:2],
            )
            claims = []
            for _, app_id, entry in due[:limit]:
                entry.claimed_by, entry.lease_until = worker_id, _utc(now) + timedelta(seconds=lease_seconds)
                claims.append(Claim(app_id, entry.attempts))
            return claims

    def retry_later(self, application: Application, at: datetime, error: str) -> None:
        with self.lock:
            self._update(application)
            self._schedule(application.id, at, failed_with=error)

    def stall(self, application: Application, at: datetime, error: str) -> None:
        with self.lock:
            self._update(application)
            self._schedule(application.id, at, failed_with=error).stalled_at = _utc(at)

    def stalled(self) -> list[Stalled]:
        with self.lock:
            parked = [
                Stalled(app_id, entry.attempts, entry.stalled_at, entry.last_error)
                for app_id, entry in self.outbox.items()
                if entry.stalled_at is not None
            ]
        return sorted(parked, key=lambda entry: (entry.stalled_at, entry.application_id))

    def resume(self, application: Application, now: datetime) -> None:
        with self.lock:
            self._update(application)
            self._schedule(application.id, now)

    def outbox_stats(self, now: datetime) -> OutboxStats:
        with self.lock:
            live = [(app_id, e) for app_id, e in self.outbox.items() if e.stalled_at is None]
            due = sum(1 for _, entry in live if entry.available_at <= now)
            oldest = min((self.applications[app_id].created_at for app_id, _ in live), default=None)
            return OutboxStats(due, len(live) - due, len(self.outbox) - len(live), oldest)

    def without_progress(self, since: datetime) -> list[Idle]:
        with self.lock:
            idle = [
                Idle(a.id, a.status, a.updated_at, a.stalled)
                for a in self.applications.values()
                if not a.status.is_final and a.updated_at < since
            ]
        return sorted(idle, key=lambda item: (item.updated_at, item.application_id))


def today_at(day: date) -> datetime:
    """A UTC noon on a day: a clock for tests."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@dataclass
class FakeKzFund(Outage):
    """The fund's answers by ИИН; anything else is unknown to it."""

    answers: dict[str, InsuranceStatus] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        Outage.__init__(self)

    def insurance_status(self, message_id: str, iin: str) -> InsuranceStatus:
        self.calls.append((message_id, iin))
        self.check("insurance_status")
        if iin not in self.answers:
            raise NotFound("no such ИИН")
        return self.answers[iin]


def fake_fund_like_the_mocks() -> FakeFund:
    """A FakeFund holding the insurers admitted today and the clinics of the mocks' seed (mocks/data/registry.yaml)."""
    from mocks.app import SEED
    from mocks.calendar import moscow_today
    from mocks.fund.clinic_seed import load_clinic_seed
    from mocks.fund.seed import load_seed

    insurers, _ = load_seed(SEED)
    today = moscow_today()
    return FakeFund(
        insurers=[
            Insurer(i.code, i.name, i.region_code, tuple(map(RegistryPolicyForm, i.policy_forms)), i.phone, i.website)
            for i in insurers
            if i.admitted_on(today, i.region_code)
        ],
        clinics={
            c.code: Clinic(c.code, c.name, c.region_code, c.attached < c.capacity, c.address, c.phone)
            for c in load_clinic_seed(SEED).clinics
        },
    )
