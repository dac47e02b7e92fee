"""The mocks' calendar: registries work in Moscow calendar days, as the gateway dates applications."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Moscow keeps UTC+3 all year since 2014.
MOSCOW = timezone(timedelta(hours=3), "MSK")


def moscow_today() -> date:
    """Today in Moscow: between 21:00 and 24:00 UTC it is already tomorrow there."""
    return datetime.now(MOSCOW).date()
