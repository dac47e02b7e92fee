"""Request bodies of the API: Анна Иванова's application as a portal sends it."""

from __future__ import annotations

import copy
from typing import Any

BODY: dict[str, Any] = {
    "relation": "self",
    "person": {
        "last_name": "Иванова",
        "first_name": "Анна",
        "middle_name": "Сергеевна",
        "birth_date": "1990-05-17",
        "sex": "female",
        "birth_place": "г. Москва",
        "citizenship": "RUS",
        "snils": "112-233-445 95",
        "inn": "500100732259",
        "identity_document": {
            "type": "passport_rf",
            "series": "4510",
            "number": "123456",
            "issue_date": "2010-06-01",
            "issuer": "ОВД района Арбат г. Москвы",
        },
        "residence_document": None,
    },
    "region_code": "77",
    "insurer_code": "77001",
    "policy_form": "electronic",
    "contacts": {"phone": "+79161234567", "email": "anna@example.ru"},
}


def body(**person: Any) -> dict[str, Any]:
    data = copy.deepcopy(BODY)
    data["person"].update(person)
    return data


def mother_as_representative() -> dict[str, Any]:
    """Анна as the parent who applies for her child: her identity and the parent's authority."""
    mother = BODY["person"]
    return {
        "last_name": mother["last_name"],
        "first_name": mother["first_name"],
        "birth_date": mother["birth_date"],
        "snils": mother["snils"],
        "identity_document": copy.deepcopy(mother["identity_document"]),
        "authority": {"type": "parent"},
    }
