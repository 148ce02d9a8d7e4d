"""Report periods: half-years ("2026-H1"), years ("2026": the annual report) and "final" (programme end).

Every report is computed as of its cut-off, the last instant of its last half-year (services.audit.reports).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.audit.reports import cut_off_of

_HALF_YEAR = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")
FINAL = "final"


class ReportPeriodError(ValueError):
    """Not a period, or one outside the programme."""


class ReportKind(StrEnum):
    HALF_YEAR = "half_year"
    ANNUAL = "annual"
    FINAL = "final"


@dataclass(frozen=True)
class ReportPeriod:
    code: str
    kind: ReportKind
    half_years: tuple[str, ...]

    @property
    def anchor(self) -> str:
        """The half-year whose stored figures the report carries: its last one."""
        return self.half_years[-1]

    @property
    def cut_off(self) -> datetime:
        return cut_off_of(self.anchor)

    @property
    def title(self) -> str:
        if self.kind is ReportKind.HALF_YEAR:
            year, half = self.code.split("-H")
            months = "januari-juni" if half == "1" else "juli-december"
            return f"Halfjaarrapportage {months} {year}"
        if self.kind is ReportKind.ANNUAL:
            return f"Jaarrapportage {self.code}"
        return f"Eindrapportage {self.half_years[0][:4]}-{self.anchor[:4]}"

    def finished(self, now: datetime) -> bool:
        return now > self.cut_off


def report_file_stem(period: str) -> str:
    return f"groeiruimte-rapportage-{period}"


def half_year_of(day: date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def half_years_between(start: date, end: date) -> tuple[str, ...]:
    """Every half-year from the one holding `start` to the one holding `end`."""
    first, last = half_year_of(start), half_year_of(end)
    found: list[str] = []
    year, half = int(first[:4]), int(first[-1])
    while f"{year}-H{half}" <= last:
        found.append(f"{year}-H{half}")
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return tuple(found)


def parse_period(code: str, programme_start: date, programme_end: date) -> ReportPeriod:
    """The period a code names; it must lie within the programme."""
    programme = half_years_between(programme_start, programme_end)
    if code == FINAL:
        return ReportPeriod(FINAL, ReportKind.FINAL, programme)
    if _HALF_YEAR.match(code):
        period = ReportPeriod(code, ReportKind.HALF_YEAR, (code,))
    elif _YEAR.match(code):
        period = ReportPeriod(code, ReportKind.ANNUAL, (f"{code}-H1", f"{code}-H2"))
    else:
        raise ReportPeriodError(f"a period is written 2026-H1, 2026-H2, 2026 or final, not {code!r}")
    inside = tuple(half for half in period.half_years if half in programme)
    if not inside:
        raise ReportPeriodError(f"{code} lies outside the programme ({programme[0]} to {programme[-1]})")
    return ReportPeriod(period.code, period.kind, inside)


def periods_until(now: datetime, programme_start: date, programme_end: date) -> list[ReportPeriod]:
    """The reports one can look at by `now`: every begun half-year and year, and the final report."""
    begun = [half for half in half_years_between(programme_start, programme_end) if half <= half_year_of(now)]
    years = sorted({half[:4] for half in begun})
    codes = [*begun, *years, FINAL]
    return [parse_period(code, programme_start, programme_end) for code in codes]
