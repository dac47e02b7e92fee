"""Read the seed of the mock registry (mocks/data/registry.yaml): insurers and persons with their policies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from mocks import snils as snils_rules
from mocks.fund.checks import enp_facet, enp_is_valid
from mocks.fund.model import Document, InsurerRecord, PersonRecord, PolicyEvent, PolicyRecord


class SeedError(ValueError):
    """The seed file says something the registry cannot hold; the message names the entry."""


def load_seed(path: Path) -> tuple[tuple[InsurerRecord, ...], tuple[PersonRecord, ...]]:
    """Return the insurers and persons of a seed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    insurers = tuple(_insurer(entry) for entry in data.get("insurers") or ())
    persons = tuple(_person(entry) for entry in data.get("persons") or ())
    enps = [person.enp for person in persons]
    if len(set(enps)) != len(enps):
        raise SeedError("В seed-файле повторяется ЕНП.")
    return insurers, persons


def _insurer(entry: dict[str, Any]) -> InsurerRecord:
    return InsurerRecord(
        code=str(entry["code"]),
        name=str(entry["name"]),
        region_code=str(entry["region_code"]),
        admitted_from=_date(entry["admitted_from"]),
        admitted_to=_optional_date(entry.get("admitted_to")),
        policy_forms=tuple(str(form) for form in entry.get("policy_forms") or ()),
        phone=_optional_str(entry.get("phone")),
        website=_optional_str(entry.get("website")),
    )


def _person(entry: dict[str, Any]) -> PersonRecord:
    enp = str(entry["enp"])
    person = PersonRecord(
        enp=enp,
        last_name=str(entry["last_name"]),
        first_name=str(entry["first_name"]),
        middle_name=_optional_str(entry.get("middle_name")),
        birth_date=_date(entry["birth_date"]),
        sex=str(entry["sex"]),
        birth_place=_optional_str(entry.get("birth_place")),
        citizenship=str(entry["citizenship"]),
        category=_optional_str(entry.get("category")),
        snils=_optional_str(entry.get("snils")),
        identity_document=_document(entry["identity_document"]),
        residence_document=_optional_document(entry.get("residence_document")),
        death_date=_optional_date(entry.get("death_date")),
    )
    # A seed typo would otherwise surface as a puzzling refusal in some test far away.
    if not enp_is_valid(enp) or enp[2:10] != enp_facet(person.birth_date, person.sex):
        raise SeedError(f"ЕНП {enp} не соответствует дате рождения и полу или контрольной цифре.")
    if person.snils is not None and not snils_rules.is_valid(person.snils):
        raise SeedError(f"СНИЛС {person.snils} (ЕНП {enp}) с неверным контрольным числом.")
    policies, events = _policies(enp, entry.get("policies") or ())
    if person.death_date is not None and policies:
        # The registry annuls the policy of a person who died.
        policies[-1] = replace(policies[-1], annulled_from=person.death_date)
    return replace(person, policies=tuple(policies), events=tuple(events))


def _policies(enp: str, entries: Any) -> tuple[list[PolicyRecord], list[PolicyEvent]]:
    policies: list[PolicyRecord] = []
    events: list[PolicyEvent] = []
    for number, entry in enumerate(entries, start=1):
        policy = PolicyRecord(
            enp=enp,
            insurer_code=str(entry["insurer_code"]),
            region_code=str(entry["region_code"]),
            policy_form=str(entry["policy_form"]),
            valid_from=_date(entry["valid_from"]),
            valid_to=_optional_date(entry.get("valid_to")),
        )
        if not policies:
            kind = "issued"
        elif policies[-1].insurer_code != policy.insurer_code:
            kind = "insurer_changed"
        else:
            kind = "reissued"
        events.append(
            PolicyEvent(
                date=policy.valid_from,
                type=str(entry.get("event", kind)),
                insurer_code=policy.insurer_code,
                region_code=policy.region_code,
                policy_form=policy.policy_form,
                reason=_optional_str(entry.get("reason")),
                registration_id=f"SEED-{enp}-{number}",
            )
        )
        policies.append(policy)
    return policies, events


def _document(entry: dict[str, Any]) -> Document:
    return Document(
        type=str(entry["type"]),
        series=_optional_str(entry.get("series")),
        number=str(entry["number"]),
        issue_date=_date(entry["issue_date"]),
        issuer=_optional_str(entry.get("issuer")),
        expiry_date=_optional_date(entry.get("expiry_date")),
    )


def _optional_document(entry: dict[str, Any] | None) -> Document | None:
    return None if entry is None else _document(entry)


def _date(value: Any) -> date:
    # YAML reads an unquoted 2011-01-01 as a date and a quoted one as a string; both are fine in the seed.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _optional_date(value: Any) -> date | None:
    return None if value is None else _date(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
