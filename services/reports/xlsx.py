"""A report as an XLSX workbook (openpyxl): one sheet per table, machine-readable keys beside Dutch labels."""

from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from services.reports import labels
from services.reports.content import ReportContent
from services.reports.periods import ReportKind

SUPPRESSED = "<3"
Row = Sequence[Any]


def workbook_bytes(report: ReportContent) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    _figures(first, report)
    if report.kind is not ReportKind.HALF_YEAR:
        _sheet(book, "Reeks", _series_rows(report))
    b = report.breakdowns
    _sheet(book, "Trechter", [("Sleutel", "Stap", "Leads"), *_counts(b.funnel, labels.FUNNEL)])
    if b.current_stages is not None:
        _sheet(book, "Fasen", [("Sleutel", "Fase", "Leads"), *_counts(b.current_stages, labels.STAGES)])
    _sheet(book, "Knelpunten", _bottleneck_rows(report))
    _sheet(book, "Stromen", _flow_rows(report))
    _sheet(book, "Doorlooptijd", _lead_time_rows(report))
    if b.partners is not None:
        _sheet(book, "Partners", _partner_rows(report))
    _sheet(book, "Toelichting", _narrative_rows(report))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return SUPPRESSED if value is None else value


def _sheet(book: Workbook, title: str, rows: Iterable[Row]) -> Worksheet:
    sheet: Worksheet = book.create_sheet(title)
    _fill(sheet, rows)
    return sheet


def _fill(sheet: Worksheet, rows: Iterable[Row]) -> None:
    for row in rows:
        sheet.append([_cell(value) for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 44


def _figures(sheet: Worksheet, report: ReportContent) -> None:
    sheet.title = "Kerncijfers"
    figures = report.impact.figures
    rows: list[Row] = [
        ("Sleutel", "Kengetal", "Waarde", "Pro-rata doel", "Doel programma"),
        *(
            (name, labels.FIGURES[name], figure.value, figure.pro_rata_target, figure.target)
            for name, figure in figures
        ),
        ("retained_investment_eur.committed", "Investering toegezegd (EUR)",
         figures.retained_investment_eur.committed),
        ("retained_investment_eur.confirmed", "Investering bevestigd in nazorg (EUR)",
         figures.retained_investment_eur.confirmed),
        (),
        ("rapport", report.title),
        ("periode", report.period),
        ("peilmoment", report.as_of.isoformat()),
        ("voorlopig", "ja" if report.provisional else "nee"),
        ("vastgesteld", "ja" if report.stored else "nee"),
        ("bekend_op", report.known_at.isoformat()),
        ("logpositie", report.log_position),
        ("hash_cijfers", report.figures_hash or "niet vastgesteld"),
    ]  # fmt: skip
    _fill(sheet, rows)


def _series_rows(report: ReportContent) -> list[Row]:
    names = list(labels.FIGURES)
    header: Row = ("Halfjaar", "Peilmoment", *(labels.FIGURES[name] for name in names))
    return [header] + [
        (half.period, half.as_of.isoformat(), *(half.values[name] for name in names))
        for half in report.series
    ]


def _counts(cells: dict[str, int | None], names: dict[str, str]) -> list[Row]:
    return [(key, names.get(key, key), value) for key, value in cells.items()]


def _bottleneck_rows(report: ReportContent) -> list[Row]:
    grid = report.breakdowns.bottlenecks
    kinds = list(labels.DEMAND_KINDS)
    rows: list[Row] = [("Regio", *(labels.DEMAND_KINDS[kind] for kind in kinds))]
    rows += [(labels.REGIONS[region], *(row.get(kind) for kind in kinds)) for region, row in grid.items()]
    return rows


def _flow_rows(report: ReportContent) -> list[Row]:
    rows: list[Row] = [("Van regio", "Naar", "Leads")]
    rows += [
        (labels.REGIONS[f.from_region], labels.REGIONS[f.to_region], f.leads) for f in report.breakdowns.flows
    ]
    return rows


def _lead_time_rows(report: ReportContent) -> list[Row]:
    times = report.breakdowns.lead_times
    rows: list[Row] = [("Doorlooptijd (nodig op - gesignaleerd)", "Leads", "Haalt doel (≥ 2 jaar)")]
    rows += [(bucket.label, bucket.leads, "ja" if bucket.meets_goal else "nee") for bucket in times.buckets]
    unknown = SUPPRESSED if report.breakdowns.suppressed else "—"
    median = unknown if times.median_days is None else times.median_days
    share = unknown if times.share_meeting_goal is None else times.share_meeting_goal
    return [
        *rows,
        (),
        ("Gemeten leads", times.measured),
        ("Mediaan (dagen)", median),
        ("Aandeel dat het doel haalt", share),
    ]


def _partner_rows(report: ReportContent) -> list[Row]:
    rows: list[Row] = [("Partner", "Organisatie", "Verzoeken", "Beantwoord", "Mediaan dagen tot antwoord")]
    for p in report.breakdowns.partners or []:
        median = "—" if p.median_days is None else p.median_days
        rows.append((p.partner_id, labels.organisation(p.partner_id), p.requests, p.answered, median))
    return rows


def _narrative_rows(report: ReportContent) -> list[Row]:
    rows: list[Row] = [("Halfjaar", "Eén samenhangend ecosysteem", "Geleerde lessen", "Versie")]
    rows += [(n.period, n.ecosystem, n.lessons, n.version) for n in report.narratives]
    return rows
