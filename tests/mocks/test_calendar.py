"""The mocks' calendar: ages and anniversaries counted as the gateway counts them (ГК РФ ст. 192)."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.domain import documents
from mocks import calendar


def test_a_person_born_on_29_february_turns_a_year_older_on_28_february_in_a_common_year() -> None:
    assert calendar.anniversary(date(2012, 2, 29), 14) == date(2026, 2, 28)
    assert calendar.anniversary(date(2012, 2, 29), 16) == date(2028, 2, 29)
    assert calendar.age_on(date(2012, 2, 29), date(2026, 2, 27)) == 13
    assert calendar.age_on(date(2012, 2, 29), date(2026, 2, 28)) == 14


def test_the_mocks_and_the_gateway_count_every_age_alike() -> None:
    # The two are written apart (the mocks share nothing with the gateway) and must agree on every day.
    births = [date(2008, 2, 28), date(2008, 2, 29), date(2008, 3, 1), date(2009, 12, 31)]
    days = [date(2021, 12, 1) + timedelta(days=offset) for offset in range(0, 4 * 366, 3)]
    for birth in births:
        for day in days:
            assert calendar.age_on(birth, day) == documents.age_on(birth, day), (birth, day)
