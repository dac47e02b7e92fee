"""The mock fund's registry of insured persons (a regional ЕРЗЛ segment): state, searches and registrations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mocks.calendar import moscow_today
from mocks.fund import identification, registration
from mocks.fund.checks import check_person, enp_facet, make_enp
from mocks.fund.clinics import Clinics
from mocks.fund.model import (
    Application,
    Document,
    InsurerRecord,
    PersonRecord,
    PolicyEvent,
    PolicyRecord,
    PolicyView,
    Registration,
    StatedPerson,
    Verification,
)
from mocks.fund.seed import load_seed
from mocks.soap import BusinessFault


class Registry:
    """Insurers and insured persons, changed only by registered applications; safe to share between threads."""

    def __init__(self, seed_path: Path, today: Callable[[], date] = moscow_today):
        self._seed_path = seed_path
        self._today = today
        # One lock for everything: the server is threaded, and a registration reads and writes many records.
        self._lock = threading.RLock()
        self._insurers: dict[str, InsurerRecord] = {}
        self._persons: dict[str, PersonRecord] = {}
        self._registrations: dict[str, Registration] = {}
        # Clinics, attachments and visits (fund-v2.xsd) keep their own state and lock, over the same seed.
        self.clinics = Clinics(seed_path, self.person, self.today)
        self.reset()

    @classmethod
    def from_seed(cls, path: Path, today: Callable[[], date] = moscow_today) -> Registry:
        """A registry holding what the seed file says; `today` is the registry's calendar."""
        return cls(path, today)

    def reset(self) -> None:
        """Forget every registration: back to the seed file (read again, so edits to it apply)."""
        insurers, persons = load_seed(self._seed_path)
        with self._lock:
            self._insurers = {insurer.code: insurer for insurer in insurers}
            self._persons = {person.enp: person for person in persons}
            self._registrations = {}
        self.clinics.reset()

    def today(self) -> date:
        """The registry's current date."""
        return self._today()

    # --- reading ---------------------------------------------------------------------------------------------

    def insurer(self, code: str) -> InsurerRecord | None:
        """The insurer with this code, admitted or not."""
        with self._lock:
            return self._insurers.get(code)

    def insurer_codes(self) -> tuple[str, ...]:
        """Codes of every insurer the registry knows, admitted or not, in order."""
        with self._lock:
            return tuple(sorted(self._insurers))

    def insurers_in(self, region_code: str, on: date) -> tuple[InsurerRecord, ...]:
        """The insurers admitted in a region on a day, by code."""
        with self._lock:
            admitted = [ins for ins in self._insurers.values() if ins.admitted_on(on, region_code)]
        return tuple(sorted(admitted, key=lambda insurer: insurer.code))

    def person(self, enp: str) -> PersonRecord | None:
        """The person with this ЕНП."""
        with self._lock:
            return self._persons.get(enp)

    def current_policy(self, enp: str) -> PolicyRecord | None:
        """The latest policy of the person with this ЕНП."""
        person = self.person(enp)
        return None if person is None else person.current_policy

    def find_by_snils(self, snils: str) -> PersonRecord | None:
        """The person with this СНИЛС."""
        with self._lock:
            return identification.by_snils(tuple(self._persons.values()), snils)

    def find_by_name_and_document(
        self, names: tuple[str, str, str | None], birth_date: date, document: Document
    ) -> PersonRecord | None:
        """The person with these names and birth date who holds or held the document."""
        with self._lock:
            persons = tuple(self._persons.values())
        return identification.by_name_and_document(persons, names, birth_date, document)

    def current_view(self, person: PersonRecord) -> PolicyView | None:
        """The person's latest policy as it reads today."""
        policy = person.current_policy
        return None if policy is None else person.view(policy, self.today())

    def status(self, enp: str, on: date | None = None) -> PolicyView:
        """The person's latest policy as it reads on a day (today by default)."""
        person = self._known(enp)
        policy = person.current_policy
        if policy is None:
            raise BusinessFault("ENP_NOT_FOUND", "По ЕНП нет полиса в регистре.", field="Enp")
        return person.view(policy, on or self.today())

    def history(self, enp: str) -> tuple[PolicyEvent, ...]:
        """Everything that happened to the person's policies, oldest first, expiries and annulment included."""
        person = self._known(enp)
        events = [*person.events, *_lapses(person, self.today())]
        # Sorting is stable, so events of one day keep the order they happened in.
        return tuple(sorted(events, key=lambda event: event.date))

    # --- the registry's checks -------------------------------------------------------------------------------

    def verify(self, stated: StatedPerson, enp: str | None) -> Verification:
        """Check an applicant against the registry: new, or known with their current policy."""
        today = self.today()
        check_person(stated, enp, today)
        with self._lock:
            person = identification.identify(tuple(self._persons.values()), stated, enp)
        if person is None:
            return Verification("new")
        return Verification("known", person.enp, self.current_view(person))

    def register(self, application: Application) -> Registration:
        """Register an application; the same MessageId again answers the first result and changes nothing."""
        with self._lock:
            done = self._registrations.get(application.message_id)
            if done is not None:
                return done
            today = self.today()
            check_person(application.person, application.enp, today, application.application_date)
            registration.check_application(application, self._insurers.get(application.insurer_code))
            persons = tuple(self._persons.values())
            person = identification.identify(persons, application.person, application.enp)
            if application.type == "insurer_choice":
                outcome = registration.choose_insurer(
                    application, person, self._insurers.get, lambda: self._new_enp(application)
                )
            else:
                # check_application made sure an ЕНП is stated, and identify() found its person.
                assert person is not None
                outcome = registration.replace_policy(application, person)
            registration_id = f"RG-{today:%Y%m%d}-{len(self._registrations) + 1:06d}"
            event = PolicyEvent(
                date=application.application_date,
                type=outcome.event_type,
                insurer_code=outcome.policy.insurer_code,
                region_code=outcome.policy.region_code,
                policy_form=outcome.policy.policy_form,
                reason=application.reason,
                registration_id=registration_id,
            )
            person = replace(outcome.person, events=(*outcome.person.events, event))
            self._persons[person.enp] = person
            done = Registration(
                message_id=application.message_id,
                registration_id=registration_id,
                registered_at=_now_on(today),
                enp=person.enp,
                enp_assigned=outcome.enp_assigned,
                policy=person.view(outcome.policy, today),
            )
            self._registrations[application.message_id] = done
            return done

    # --- for QA ----------------------------------------------------------------------------------------------

    def registration_count(self) -> int:
        """How many applications were really registered since the last reset (repeats not counted)."""
        with self._lock:
            return len(self._registrations)

    def registrations_for(self, message_id: str) -> int:
        """How many registrations a MessageId made: 1 or 0, however often it was sent."""
        with self._lock:
            return int(message_id in self._registrations)

    # --- internals -------------------------------------------------------------------------------------------

    def _known(self, enp: str) -> PersonRecord:
        person = self.person(enp)
        if person is None:
            raise BusinessFault("ENP_NOT_FOUND", "ЕНП не найден в регистре.", field="Enp")
        return person

    def _new_enp(self, application: Application) -> str:
        # Serials are counted per fund code and facet: the next after the highest one the registry holds.
        stated = application.person
        prefix = application.region_code + enp_facet(stated.birth_date, stated.sex)
        used = [int(enp[10:15]) for enp in self._persons if enp.startswith(prefix)]
        return make_enp(application.region_code, stated.birth_date, stated.sex, max(used, default=0) + 1)


def _lapses(person: PersonRecord, today: date) -> list[PolicyEvent]:
    # Expiry and annulment are not applications: they are read off the policies' periods and the death date.
    lapses: list[PolicyEvent] = []
    for number, policy in enumerate(person.policies):
        following = person.policies[number + 1] if number + 1 < len(person.policies) else None
        if policy.annulled_from is not None and policy.annulled_from <= today:
            lapses.append(_lapse(policy, "annulled", policy.annulled_from))
        elif policy.valid_to is not None and policy.valid_to < today:
            ended = policy.valid_to + timedelta(days=1)
            if following is None or following.valid_from > ended:
                lapses.append(_lapse(policy, "expired", ended))
    return lapses


def _lapse(policy: PolicyRecord, kind: str, day: date) -> PolicyEvent:
    return PolicyEvent(day, kind, policy.insurer_code, policy.region_code, policy.policy_form)


def _now_on(today: date) -> datetime:
    # The time of day is real, the date is the registry's: tests pin the date, RegisteredAt stays a UTC instant.
    return datetime.combine(today, datetime.now(UTC).time().replace(microsecond=0), tzinfo=UTC)
