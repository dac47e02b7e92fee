"""The codec: every domain value that lives in a JSON column comes back exactly as it was stored."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from gateway.domain.applications import Progress
from gateway.domain.model import (
    ApplicationKind,
    ApplicationStatus,
    DocumentType,
    HistoryEntry,
    IssuedPolicy,
    NewPolicyRequest,
    Person,
    Reason,
    RegistryApplicationType,
    RegistryReason,
    ReplacementRequest,
    Source,
)
from gateway.storage.codec import (
    CodecError,
    Json,
    dump,
    load,
    load_reasons,
    load_request,
)
from tests.support.storage import T0, new_policy_request, passport, person, replacement_request


def through_json(value: object) -> Json:
    """What a JSON column gives back: the dumped data, serialized and parsed again."""
    data: Json = json.loads(json.dumps(dump(value), ensure_ascii=False))
    return data


def test_a_new_policy_request_with_every_field_round_trips() -> None:
    request = new_policy_request(person=person(residence_document=passport(type=DocumentType.RESIDENCE_PERMIT)))

    assert load_request(ApplicationKind.NEW, through_json(request)) == request


def test_a_new_policy_request_without_optional_fields_round_trips() -> None:
    minimal = new_policy_request(
        contacts=None,
        person=person(
            middle_name=None, birth_place=None, snils=None, inn=None, identity_document=passport(issuer=None)
        ),
    )

    assert load_request(ApplicationKind.NEW, through_json(minimal)) == minimal


def test_a_replacement_request_with_changed_person_data_round_trips() -> None:
    request = replacement_request()

    loaded = load_request(ApplicationKind.REPLACEMENT, through_json(request))

    assert isinstance(loaded, ReplacementRequest)
    assert loaded == request


def test_dates_are_iso_strings_and_enums_their_values() -> None:
    data = dump(new_policy_request())

    assert isinstance(data, dict)
    assert data["relation"] == "self"
    assert data["policy_form"] == "electronic"
    assert isinstance(data["person"], dict)
    assert data["person"]["birth_date"] == "1990-05-17"
    assert data["person"]["sex"] == "female"


def test_progress_round_trips() -> None:
    progress = Progress(
        enp="7754900882000015",
        registry_type=RegistryApplicationType.INSURER_CHOICE,
        registry_reason=RegistryReason.FIRST_CHOICE,
        insurer_code="77001",
        region_code="77",
        insurer_application_id="ins-1",
        person=person(),
    )

    assert load(Progress, through_json(progress)) == progress
    assert load(Progress, through_json(Progress())) == Progress()
    # Stored as their values, as rows written when these were plain strings hold them.
    assert through_json(progress)["registry_type"] == "insurer_choice"  # type: ignore[index,call-overload]


def test_rejection_reasons_round_trip_with_their_details_in_order() -> None:
    reasons = (
        Reason(
            "SNILS_CHECKSUM", Source.GATEWAY, "Контрольное число СНИЛС не совпадает.", "Сверьте СНИЛС.", "person.snils"
        ),
        Reason(
            "FUND_UNKNOWN_CODE",
            Source.FUND,
            "Фонд отказал.",
            "Обратитесь в фонд.",
            details=(("code", "E042"), ("text", "нет записи")),
        ),
    )

    assert load_reasons(through_json(reasons)) == reasons


def test_an_issued_policy_round_trips() -> None:
    policy = IssuedPolicy("7754900882000015", "77001", date(2025, 3, 4), date(2030, 3, 4))

    assert load(IssuedPolicy, through_json(policy)) == policy
    assert (
        load(IssuedPolicy, through_json(IssuedPolicy("7754900882000015", "77001", date(2025, 3, 4)))).valid_to is None
    )


def test_a_history_entry_keeps_its_moment_and_offset() -> None:
    moscow = timezone(timedelta(hours=3))
    entry = HistoryEntry(ApplicationStatus.VERIFYING, datetime(2025, 3, 3, 12, 0, 0, 123456, tzinfo=moscow), "повтор")

    loaded = load(HistoryEntry, through_json(entry))

    assert loaded == entry
    assert loaded.at.utcoffset() == timedelta(hours=3)
    assert load(HistoryEntry, through_json(HistoryEntry(ApplicationStatus.ACCEPTED, T0))).note is None


def test_a_field_missing_from_stored_data_takes_its_default() -> None:
    data = through_json(new_policy_request())
    assert isinstance(data, dict)
    del data["contacts"]

    assert load(NewPolicyRequest, data).contacts is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "unknown"),
        ("birth_date", 19900517),
        ("last_name", None),
        ("nickname", "Аня"),
    ],
)
def test_data_that_does_not_fit_the_type_is_refused(field: str, value: Json) -> None:
    data = through_json(person())
    assert isinstance(data, dict)
    data[field] = value

    with pytest.raises(CodecError):
        load(Person, data)


def test_a_required_field_missing_is_refused() -> None:
    data = through_json(person())
    assert isinstance(data, dict)
    del data["last_name"]

    with pytest.raises(CodecError, match="last_name"):
        load(Person, data)


def test_a_value_the_codec_does_not_know_is_refused() -> None:
    with pytest.raises(CodecError):
        dump(object())
