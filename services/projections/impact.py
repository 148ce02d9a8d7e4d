"""The programme's impact figures against its targets (DESIGN §7): report models and pure arithmetic."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_serializer, field_validator

from services.settings import ImpactTargets


def programme_share(start: date, end: date, as_of: datetime) -> float:
    """Elapsed share of the programme at `as_of`, from 00:00Z on `start` to the end of `end`, in [0, 1]."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    begin = datetime.combine(start, time(), tzinfo=UTC)
    finish = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    if finish <= begin:
        raise ValueError("the programme must end on or after the day it starts")
    return min(1.0, max(0.0, (as_of - begin) / (finish - begin)))


def pro_rata_target(target: float, start: date, end: date, as_of: datetime) -> float:
    """The part of `target` due by `as_of`, rounded to cents."""
    return round(target * programme_share(start, end, as_of), 2)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Figure(_Frozen):
    value: int
    target: float
    pro_rata_target: float


class InvestmentFigure(_Frozen):
    """Retained investment: `value` is what was committed; `confirmed` what aftercare confirmed."""

    value: float
    target: float
    pro_rata_target: float
    committed: float
    confirmed: float


class ImpactFigures(_Frozen):
    leads_in_portfolio: Figure
    case_approaches_started: Figure
    realised_other_region: Figure
    new_scale_ups: Figure
    retained_investment_eur: InvestmentFigure


class Period(_Frozen):
    start: date
    end: date


class ImpactReport(_Frozen):
    as_of: AwareDatetime
    period: Period
    figures: ImpactFigures

    @field_validator("as_of")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_serializer("as_of")
    def _with_z(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ImpactCounts:
    """What the read models count as of a moment, before targets are applied."""

    leads_in_portfolio: int
    case_approaches_started: int
    realised_other_region: int
    new_scale_ups: int
    committed_investment_eur: float
    confirmed_investment_eur: float


def impact_report(
    counts: ImpactCounts,
    *,
    targets: ImpactTargets,
    programme_start: date,
    programme_end: date,
    as_of: datetime,
) -> ImpactReport:
    """Set the counts against the full and the pro-rata targets."""

    def due(target: float) -> float:
        return pro_rata_target(target, programme_start, programme_end, as_of)

    def figure(value: int, target: float) -> Figure:
        return Figure(value=value, target=target, pro_rata_target=due(target))

    investment = InvestmentFigure(
        value=counts.committed_investment_eur,
        target=targets.retained_investment_eur,
        pro_rata_target=due(targets.retained_investment_eur),
        committed=counts.committed_investment_eur,
        confirmed=counts.confirmed_investment_eur,
    )
    figures = ImpactFigures(
        leads_in_portfolio=figure(counts.leads_in_portfolio, targets.leads_in_portfolio),
        case_approaches_started=figure(counts.case_approaches_started, targets.case_approaches_started),
        realised_other_region=figure(counts.realised_other_region, targets.realised_other_region),
        new_scale_ups=figure(counts.new_scale_ups, targets.new_scale_ups),
        retained_investment_eur=investment,
    )
    period = Period(start=programme_start, end=programme_end)
    return ImpactReport(as_of=as_of, period=period, figures=figures)
