"""The mocks' calendar: registries work in Moscow calendar days, as the gateway dates applications; ages and
anniversaries are counted the way Russian law counts a term in years."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Moscow keeps UTC+3 all year since 2014.
MOSCOW = timezone(timedelta(hours=3), "MSK")
# All of Kazakhstan keeps UTC+5 all year since 1 March 2024, Almaty included.
ALMATY = timezone(timedelta(hours=5), "ALMT")


def moscow_today() -> date:
    """Today in Moscow: between 21:00 and 24:00 UTC it is already tomorrow there."""
    return datetime.now(MOSCOW).date()


def almaty_today() -> date:
    """Today in Kazakhstan, whose fund works in its own calendar days: from 19:00 UTC it is tomorrow there."""
    return datetime.now(ALMATY).date()


def anniversary(day: date, years: int) -> date:
    """The day `years` years after `day`; 29 February falls on 28 February in a common year."""
    # A term in years ends on the same month and day (ГК РФ ст. 192 п. 1); a month without that day ends on its
    # last day (ст. 192 п. 3), so a person born on 29 February turns a year older on 28 February.
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on the day."""
    years = day.year - birth_date.year
    return years if anniversary(birth_date, years) <= day else years - 1
