"""Dutch working days: weekends and public holidays (from the maintained `holidays` package) skipped."""

from datetime import date, timedelta
from functools import lru_cache

import holidays

# Computed once at import: the holidays package reads locale settings while it builds a calendar, which
# the Temporal workflow sandbox forbids, so workflows must only ever look the dates up.
CALENDAR_YEARS = range(2024, 2041)
_CALENDAR = holidays.country_holidays("NL", years=CALENDAR_YEARS)
_HOLIDAYS: dict[int, frozenset[date]] = {
    year: frozenset(day for day in _CALENDAR if day.year == year) for year in CALENDAR_YEARS
}


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[date]:
    if year in _HOLIDAYS:
        return _HOLIDAYS[year]
    return frozenset(holidays.country_holidays("NL", years=year))  # outside workflows only


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (0 gives the first working day on or after it)."""
    day = start
    while not is_working_day(day):
        day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day
