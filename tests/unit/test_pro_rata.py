"""The pro-rata arithmetic of the impact table (DESIGN §7): pure, no database."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.projections.impact import ImpactCounts, impact_report, pro_rata_target, programme_share
from services.settings import ImpactTargets

START, END = date(2025, 1, 1), date(2028, 12, 31)
PERIOD_DAYS = 1461  # 2025-01-01 00:00Z up to 2029-01-01 00:00Z, 2028 being a leap year


def test_nothing_is_due_at_the_start_of_the_first_day() -> None:
    assert pro_rata_target(40, START, END, datetime(2025, 1, 1, tzinfo=UTC)) == 0.0


def test_the_full_target_is_due_at_the_end_of_the_last_day() -> None:
    assert pro_rata_target(40, START, END, datetime(2029, 1, 1, tzinfo=UTC)) == 40.0


def test_the_last_day_still_counts_towards_the_period() -> None:
    almost_over = datetime(2028, 12, 31, 12, tzinfo=UTC)
    assert programme_share(START, END, almost_over) == pytest.approx((PERIOD_DAYS - 0.5) / PERIOD_DAYS)


def test_share_is_elapsed_time_over_the_whole_period() -> None:
    as_of = datetime(2027, 1, 1, tzinfo=UTC)  # 730 days in
    assert programme_share(START, END, as_of) == pytest.approx(730 / PERIOD_DAYS)
    assert pro_rata_target(40, START, END, as_of) == 19.99
    assert pro_rata_target(1_500_000_000, START, END, as_of) == 749486652.98


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(datetime(2024, 6, 30, tzinfo=UTC), 0.0), (datetime(2031, 1, 1, tzinfo=UTC), 24.0)],
)
def test_share_is_clamped_outside_the_period(as_of: datetime, expected: float) -> None:
    assert pro_rata_target(24, START, END, as_of) == expected


def test_as_of_in_another_zone_is_the_same_moment() -> None:
    amsterdam_midnight = datetime(2027, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    utc_midnight = datetime(2027, 1, 1, tzinfo=UTC)
    assert programme_share(START, END, amsterdam_midnight) == programme_share(START, END, utc_midnight)


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        programme_share(START, END, datetime(2027, 1, 1))


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end"):
        programme_share(END, START, datetime(2027, 1, 1, tzinfo=UTC))


def test_a_one_day_period_is_half_over_at_noon() -> None:
    day = date(2026, 3, 1)
    assert programme_share(day, day, datetime(2026, 3, 1, 12, tzinfo=UTC)) == 0.5


def test_report_serialises_figures_against_targets_with_utc_z() -> None:
    counts = ImpactCounts(
        leads_in_portfolio=3,
        case_approaches_started=2,
        realised_other_region=1,
        new_scale_ups=1,
        committed_investment_eur=150e6,
        confirmed_investment_eur=80e6,
    )
    as_of = datetime(2027, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    report = impact_report(
        counts, targets=ImpactTargets(), programme_start=START, programme_end=END, as_of=as_of
    )
    body = report.model_dump(mode="json")
    assert body["as_of"] == "2027-01-01T00:00:00Z"
    assert body["period"] == {"start": "2025-01-01", "end": "2028-12-31"}
    assert body["figures"]["leads_in_portfolio"] == {"value": 3, "target": 40.0, "pro_rata_target": 19.99}
    assert body["figures"]["new_scale_ups"] == {"value": 1, "target": 6.0, "pro_rata_target": 3.0}
    assert body["figures"]["retained_investment_eur"] == {
        "value": 150e6,
        "target": 1.5e9,
        "pro_rata_target": 749486652.98,
        "committed": 150e6,
        "confirmed": 80e6,
    }
