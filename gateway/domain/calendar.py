"""The registry's calendar: the fund and the insurers count days in Moscow, whatever the clock of the machine."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Moscow keeps UTC+3 all year since 2014: a fixed offset, so no time zone database is needed.
MOSCOW = timezone(timedelta(hours=3), "MSK")


def moscow_date(moment: datetime) -> date:
    """The Moscow calendar day of an aware moment: between 21:00 and 24:00 UTC it is already the next day there."""
    return moment.astimezone(MOSCOW).date()


def application_date(created_at: datetime) -> date:
    """The date the registry gives an application: the Moscow day it was accepted on."""
    return moscow_date(created_at)
