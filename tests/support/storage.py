"""Builders of applications for the store's tests: a moment, an applicant, requests, an accepted application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.domain.applications import Application, Owner
from gateway.domain.model import (
    Contacts,
    Document,
    DocumentType,
    NewPolicyRequest,
    Person,
    PersonChanges,
    PolicyForm,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Sex,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A moment `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


def passport(**changes: Any) -> Document:
    values: dict[str, Any] = {
        "type": DocumentType.PASSPORT_RF,
        "series": "4510",
        "number": "123456",
        "issue_date": date(2010, 6, 1),
        "issuer": "ОВД района Арбат г. Москвы",
    }
    return Document(**(values | changes))


def person(**changes: Any) -> Person:
    """Анна Иванова with every optional field filled."""
    values: dict[str, Any] = {
        "last_name": "Иванова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "birth_date": date(1990, 5, 17),
        "sex": Sex.FEMALE,
        "citizenship": "RUS",
        "identity_document": passport(),
        "birth_place": "г. Москва",
        "snils": "11223344595",
        "inn": "500100732259",
        "residence_document": None,
    }
    return Person(**(values | changes))


def new_policy_request(**changes: Any) -> NewPolicyRequest:
    values: dict[str, Any] = {
        "relation": Relation.SELF,
        "person": person(),
        "region_code": "77",
        "insurer_code": "77001",
        "policy_form": PolicyForm.ELECTRONIC,
        "contacts": Contacts(phone="+79161234567", email="anna@example.ru"),
    }
    return NewPolicyRequest(**(values | changes))


def replacement_request(enp: str = "7754900882000015") -> ReplacementRequest:
    return ReplacementRequest(
        enp=enp,
        reason=ReplacementReason.PERSONAL_DATA_CHANGE,
        policy_form=PolicyForm.PLASTIC,
        person=PersonChanges(last_name="Петрова", identity_document=passport(number="654321")),
        region_code="50",
    )


def accepted(
    application_id: str,
    owner_sub: str = "user-1",
    when: datetime = T0,
    request: NewPolicyRequest | ReplacementRequest | None = None,
) -> Application:
    """A new application as the API accepts it."""
    return Application.accept(application_id, Owner(owner_sub, "11223344595"), request or new_policy_request(), when)


OutboxEntry = Callable[[str], "dict[str, Any] | None"]
