"""A replacement's changes applied to the person the registry knows."""

from __future__ import annotations

from dataclasses import fields, replace

from gateway.domain.model import Person, PersonChanges


def apply_changes(person: Person, changes: PersonChanges) -> Person:
    """The person as they will be after the replacement: every stated field replaces the recorded one."""
    stated = {item.name: getattr(changes, item.name) for item in fields(changes)}
    return replace(person, **{name: value for name, value in stated.items() if value is not None})


def has_changes(changes: PersonChanges) -> bool:
    """Whether a replacement states any new personal data."""
    return any(getattr(changes, item.name) is not None for item in fields(changes))
