"""A report as one self-contained, printable HTML page (inline CSS and SVG; nothing fetched)."""

from datetime import datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from services.reports import labels
from services.reports.content import ReportContent
from services.web.charts import panels
from services.web.charts.svg import euros, number

_environment: Environment | None = None


def environment() -> Environment:
    global _environment
    if _environment is None:
        _environment = Environment(
            loader=PackageLoader("services.reports", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _environment.filters.update(number=number, euros=euros, moment=moment)
    return _environment


def moment(value: datetime | str | None) -> str:
    """A UTC moment as Dutch text: 31-12-2026 23:59 UTC."""
    if value is None:
        return "—"
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return when.strftime("%d-%m-%Y %H:%M UTC")


def report_html(report: ReportContent, *, standalone: bool = False) -> str:
    """The report page; `standalone` inlines its stylesheet (for files and mail, read without the app)."""
    data = report.model_dump(mode="json")
    stylesheet = files("services.web") / "static" / "report.css"
    css = stylesheet.read_text(encoding="utf-8") if standalone else None
    template = environment().get_template("report.html")
    return template.render(report=data, charts=_charts(data), labels=labels, css=css)


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    b = data["breakdowns"]
    partners = [(p["partner_id"], p["median_days"]) for p in b["partners"] or []]
    return {
        "figures": panels.figure_panels(data["impact"]),
        "investment": panels.investment_chart(data["impact"]),
        "funnel": panels.funnel_chart(b["funnel"]),
        "flows": panels.flows_chart(b["flows"]),
        "bottlenecks": panels.bottleneck_chart(b["bottlenecks"]),
        "lead_times": panels.lead_time_chart(b["lead_times"]),
        "partners": panels.partner_chart(partners) if partners else None,
    }
