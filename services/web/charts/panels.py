"""The dashboard's and the reports' charts, drawn from the API's JSON (impact figures, breakdowns)."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from services.reports import labels
from services.web.charts.bars import Bar, bullet, histogram, horizontal
from services.web.charts.flows import Link, heatmap, sankey
from services.web.charts.svg import euros, number

EURO_FIGURES = frozenset({"retained_investment_eur"})


@dataclass(frozen=True)
class FigurePanel:
    name: str
    label: str
    value: str
    pro_rata: str
    target: str
    share_of_pro_rata: str
    behind: bool
    chart: Markup


def figure_panels(impact: Mapping[str, Any]) -> list[FigurePanel]:
    """One bullet chart per impact figure: value against its pro-rata and its full target."""
    panels = []
    for name, figure in impact["figures"].items():
        shown = euros if name in EURO_FIGURES else number
        value, pro_rata, target = figure["value"], figure["pro_rata_target"], figure["target"]
        share = f"{number(math.floor(100 * value / pro_rata))}%" if pro_rata else "—"
        title = labels.FIGURES.get(name, name)
        svg = bullet(title, value, pro_rata, target, shown(value), shown(pro_rata))
        panels.append(
            FigurePanel(
                name, title, shown(value), shown(pro_rata), shown(target), share, value < pro_rata, svg
            )
        )
    return panels


def investment_chart(impact: Mapping[str, Any]) -> Markup:
    figure = impact["figures"]["retained_investment_eur"]
    bars = [
        Bar("Toegezegd", figure["committed"], euros(figure["committed"])),
        Bar("Bevestigd in nazorg", figure["confirmed"], euros(figure["confirmed"]), highlight=True),
        Bar("Pro-rata doel", figure["pro_rata_target"], euros(figure["pro_rata_target"])),
    ]
    return horizontal("Investering: toegezegd en bevestigd", bars, label_width=170)


def funnel_chart(funnel: Mapping[str, int | None]) -> Markup:
    bars = [Bar(labels.FUNNEL.get(step, step), value) for step, value in funnel.items()]
    return horizontal("Trechter: hoeveel leads elke stap bereikten", bars, label_width=190)


def flows_chart(flows: Sequence[Mapping[str, Any]]) -> Markup:
    links = [Link(f["from_region"], f["to_region"], f["leads"]) for f in flows]
    return sankey("Stromen: van thuisregio naar regio van realisatie", links, labels.REGIONS)


def bottleneck_chart(grid: Mapping[str, Mapping[str, int | None]]) -> Markup:
    title = "Knelpunten: leads met een onopgeloste vraag, per regio en soort vraag"
    return heatmap(title, grid, labels.REGIONS, labels.DEMAND_KINDS)


def lead_time_chart(lead_times: Mapping[str, Any]) -> Markup:
    bars = [Bar(b["label"], b["leads"], highlight=b["meets_goal"]) for b in lead_times["buckets"]]
    return histogram(
        "Doorlooptijd van vraagarticulatie: nodig op - gesignaleerd", bars, "doel: 2-3 jaar eerder"
    )


def partner_chart(rows: Sequence[tuple[str, float | None]]) -> Markup:
    """Median days to answer per partner; partners that have not answered yet are left out."""
    bars = [
        Bar(labels.organisation(partner_id), days, f"{number(days, decimals=1)} dagen")
        for partner_id, days in rows
        if days is not None
    ]
    return horizontal("Partners: mediaan aantal dagen tot antwoord", bars)
