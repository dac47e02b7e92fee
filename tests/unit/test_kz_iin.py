"""The Kazakh profile's domain: the ИИН's check digit and facts, the packages and which one applies."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gateway.domain.model import Sex, Violation
from gateway.kz.domain import (
    InsurancePeriod,
    InsuranceStatus,
    PackageCode,
    iin_check_digit,
    iin_facts,
    iin_violations,
    kz_today,
    load_packages,
    make_iin,
    package_for,
)

# Valid ИИН published by two independent validators (kz-iin-validator, py-kz-validators).
PUBLISHED_VALID = ("061211600012", "791028302728")
# The first weighted sum of its first 11 digits gives 10, the second 8.
SECOND_WEIGHTING = "900517400608"
# Both weighted sums give 10: no check digit exists, so no ИИН begins with these 11 digits.
NO_CHECK_DIGIT = "90051740061"
TODAY = date(2026, 6, 15)


@pytest.mark.parametrize("iin", [*PUBLISHED_VALID, SECOND_WEIGHTING])
def test_a_valid_iin_has_no_violations(iin: str) -> None:
    assert iin_violations(iin, today=TODAY) == []


def test_the_check_digit_is_the_sum_weighted_1_to_11_modulo_11() -> None:
    assert iin_check_digit("79102830272") == 8  # 327 = 29·11 + 8


def test_when_the_first_sum_gives_10_the_second_weighting_decides() -> None:
    digits = [int(char) for char in SECOND_WEIGHTING[:11]]
    assert sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11 == 10
    assert iin_check_digit(SECOND_WEIGHTING[:11]) == 8


def test_when_both_sums_give_10_there_is_no_check_digit() -> None:
    assert iin_check_digit(NO_CHECK_DIGIT) is None
    for last in "0123456789":
        assert iin_violations(NO_CHECK_DIGIT + last, today=TODAY) == [Violation("IIN_CHECKSUM", "iin")]


@pytest.mark.parametrize("wrong", ["0", "1", "3", "9"])
def test_a_wrong_check_digit_is_refused_as_iin_checksum(wrong: str) -> None:
    assert iin_violations("06121160001" + wrong, "person.iin", TODAY) == [Violation("IIN_CHECKSUM", "person.iin")]


@pytest.mark.parametrize(
    "value", ["", "79102830272", "7910283027280", "79102830272a", " 791028302728", "７９１０２８３０２７２８"]
)
def test_anything_but_twelve_ascii_digits_is_refused_as_iin_format(value: str) -> None:
    assert iin_violations(value, today=TODAY) == [Violation("IIN_FORMAT", "iin", (("reason", "length"),))]


@pytest.mark.parametrize(
    "iin",
    [
        "791328302728",  # month 13
        "790230302728",  # 30 February
        "791028002728",  # century digit 0
        "791028702728",  # century digit 7
    ],
)
def test_an_impossible_birth_date_or_century_digit_is_refused_as_iin_format(iin: str) -> None:
    assert iin_violations(iin, today=TODAY) == [Violation("IIN_FORMAT", "iin", (("reason", "birth_date"),))]


def test_a_birth_date_after_today_is_refused_as_iin_format() -> None:
    future = make_iin(date(2026, 6, 16), Sex.MALE, 1) or make_iin(date(2026, 6, 16), Sex.MALE, 2)
    assert future is not None
    assert iin_violations(future, today=TODAY) == [Violation("IIN_FORMAT", "iin", (("reason", "birth_date"),))]
    assert iin_violations(future, today=date(2026, 6, 16)) == []


@pytest.mark.parametrize(
    ("iin", "birth_date", "sex"),
    [
        ("791028302728", date(1979, 10, 28), Sex.MALE),  # 3: the 20th century, odd: a man
        ("061211600012", date(2006, 12, 11), Sex.FEMALE),  # 6: the 21st century, even: a woman
        ("850314401236", date(1985, 3, 14), Sex.FEMALE),  # 4: the 20th century, a woman
    ],
)
def test_birth_date_and_sex_are_read_from_the_iin(iin: str, birth_date: date, sex: Sex) -> None:
    facts = iin_facts(iin)
    assert (facts.birth_date, facts.sex) == (birth_date, sex)


def test_century_digits_1_and_2_are_the_19th_century() -> None:
    iin = make_iin(date(1899, 12, 31), Sex.FEMALE, 7) or make_iin(date(1899, 12, 31), Sex.FEMALE, 8)
    assert iin is not None and iin[6] == "2"
    assert iin_facts(iin).birth_date == date(1899, 12, 31)


def test_made_up_iins_always_validate_and_say_what_they_were_made_from() -> None:
    rng = random.Random(20260615)
    for _ in range(500):
        birth_date = date(rng.randint(1850, 2025), rng.randint(1, 12), rng.randint(1, 28))
        sex = rng.choice(list(Sex))
        iin = make_iin(birth_date, sex, rng.randint(0, 9999))
        if iin is None:
            continue  # no check digit for this serial: such numbers are never issued
        assert iin_violations(iin, today=TODAY) == []
        assert (iin_facts(iin).birth_date, iin_facts(iin).sex) == (birth_date, sex)


def first_sum(iin: str) -> int:
    return sum(int(digit) * weight for digit, weight in zip(iin[:11], range(1, 12), strict=True)) % 11


def test_a_changed_check_digit_is_always_caught() -> None:
    valid = PUBLISHED_VALID[1]
    for digit in "0123456789":
        if digit != valid[11]:
            assert iin_violations(valid[:11] + digit, today=TODAY) != []


def test_one_changed_digit_among_the_first_ten_is_caught_unless_it_sends_the_first_sum_to_10() -> None:
    # Weights 1..10 are all units modulo 11, so such a change always moves the first sum; only the fall-back to
    # the second weighting can then land on the same check digit. (The 11th digit weighs 11 ≡ 0 in the first sum.)
    valid = PUBLISHED_VALID[1]
    for position in range(10):
        for digit in "0123456789":
            changed = valid[:position] + digit + valid[position + 1 :]
            if changed != valid and first_sum(changed) != 10:
                assert iin_violations(changed, today=TODAY) != [], changed


# --- packages ------------------------------------------------------------------------------------------------


def test_everyone_gets_gobmp_and_the_insured_get_gobmp_and_osms() -> None:
    assert package_for(False) is PackageCode.GOBMP
    assert package_for(True) is PackageCode.GOBMP_OSMS


def test_a_status_whose_package_does_not_go_with_being_insured_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="package"):
        InsuranceStatus("791028302728", TODAY, True, PackageCode.GOBMP, InsurancePeriod(date(2020, 1, 1)))
    with pytest.raises(ValueError, match="package"):
        InsuranceStatus("791028302728", TODAY, False, PackageCode.GOBMP_OSMS)


def test_a_period_goes_with_being_insured_and_only_with_it() -> None:
    with pytest.raises(ValueError, match="period"):
        InsuranceStatus("791028302728", TODAY, True, PackageCode.GOBMP_OSMS)
    with pytest.raises(ValueError, match="period"):
        InsuranceStatus("791028302728", TODAY, False, PackageCode.GOBMP, InsurancePeriod(date(2020, 1, 1)))


def test_the_packages_file_lists_the_services_of_the_seed_text() -> None:
    packages = load_packages()
    gobmp, osms = packages.by_code["gobmp"], packages.by_code["osms"]
    assert gobmp.short_name == "ГОБМП" and osms.short_name == "ОСМС"
    assert len(gobmp.services) == 6 and len(osms.services) == 8
    assert any("Скорая медицинская помощь" in service for service in gobmp.services)
    assert any("Медицинская реабилитация" in service for service in osms.services)


def test_the_insured_package_is_made_of_gobmp_and_osms_and_named_after_both() -> None:
    packages = load_packages()
    assert [part.code for part in packages.parts(PackageCode.GOBMP_OSMS)] == ["gobmp", "osms"]
    assert [part.code for part in packages.parts(PackageCode.GOBMP)] == ["gobmp"]
    assert packages.name_of(PackageCode.GOBMP_OSMS) == "ГОБМП + ОСМС"


def test_a_packages_file_without_osms_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    file = tmp_path / "packages.yaml"
    file.write_text(
        "packages:\n  - {code: gobmp, short_name: ГОБМП, name: n, for_whom: f, services: [s]}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="osms"):
        load_packages(file)


def test_a_package_without_services_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "packages.yaml"
    file.write_text("packages:\n  - {code: gobmp, short_name: ГОБМП, name: n, for_whom: f, services: []}\n")
    with pytest.raises(ValueError, match="services"):
        load_packages(file)


def test_domain_values_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        iin_facts("791028302728").sex = Sex.FEMALE  # type: ignore[misc]


def test_kazakh_birth_date_not_in_the_future_is_judged_by_almaty_time() -> None:
    # UTC+5 all year since 1 March 2024: at 19:00 UTC it is already the next day in Almaty.
    assert kz_today(datetime(2026, 6, 14, 18, 59, tzinfo=UTC)) == date(2026, 6, 14)
    assert kz_today(datetime(2026, 6, 14, 19, 0, tzinfo=UTC)) == date(2026, 6, 15)
    born_today = "260615600015"  # a girl born on 15 June 2026
    assert iin_violations(born_today, today=kz_today(datetime(2026, 6, 14, 20, 0, tzinfo=UTC))) == []
