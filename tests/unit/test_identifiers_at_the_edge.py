"""Identifiers are normalised once, where a request enters (the schemas), and reach the back-ends as checked."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from adapters.mapping import person_payload
from gateway.api.schemas import ApplicationSchema, PersonChangesSchema
from gateway.domain.eligibility import check_new_application
from gateway.domain.model import NewPolicyRequest, PersonChanges
from tests.support.reference import REFERENCE

# The patterns of contracts/common/common.xsd (c:Snils, c:Inn).
XSD_SNILS = re.compile(r"[0-9]{11}")
XSD_INN = re.compile(r"[0-9]{10}|[0-9]{12}")


def body(**person: Any) -> dict[str, Any]:
    passport = {"type": "passport_rf", "series": "4510", "number": "123456", "issue_date": "2010-06-01"}
    return {
        "relation": "self",
        "region_code": "77",
        "insurer_code": "77001",
        "policy_form": "electronic",
        "person": {
            "last_name": "Иванова",
            "first_name": "Анна",
            "birth_date": "1990-05-17",
            "sex": "female",
            "citizenship": "RUS",
            "snils": "11223344595",
            "identity_document": passport,
            **person,
        },
    }


def load(data: dict[str, Any]) -> NewPolicyRequest:
    loaded = ApplicationSchema().load(data)
    assert isinstance(loaded, NewPolicyRequest)
    return loaded


def test_inn_with_spaces_or_full_width_digits_is_checked_and_sent_as_twelve_digits() -> None:
    for typed in ("5001 0073 2259", "５００１００７３２２５９", "5001-0073-2259"):
        request = load(body(inn=typed))
        assert request.person.inn == "500100732259"
        assert check_new_application(request, date(2026, 6, 15), REFERENCE) == []
        assert XSD_INN.fullmatch(person_payload(request.person)["Inn"])


def test_snils_and_passport_are_sent_as_the_registry_keys_them() -> None:
    passport = {"type": "passport_rf", "series": "４５ １０", "number": "123 456", "issue_date": "2010-06-01"}
    request = load(body(snils="１１２-２３３-４４５ ９５", identity_document=passport))
    assert check_new_application(request, date(2026, 6, 15), REFERENCE) == []
    sent = person_payload(request.person)
    assert (sent["Snils"], sent["IdentityDocument"]["Series"], sent["IdentityDocument"]["Number"]) == (
        "11223344595",
        "4510",
        "123456",
    )
    assert XSD_SNILS.fullmatch(sent["Snils"])


def test_an_identifier_with_letters_is_refused_not_guessed() -> None:
    request = load(body(inn="ИНН 500100732259"))
    codes = [v.code for v in check_new_application(request, date(2026, 6, 15), REFERENCE)]
    assert codes == ["INN_INVALID"]


def test_a_replacement_states_its_snils_normalised_too() -> None:
    changes = PersonChangesSchema().load({"snils": "112 233 445 95"})
    assert isinstance(changes, PersonChanges)
    assert changes.snils == "11223344595"
