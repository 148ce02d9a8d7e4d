"""Reports: the XLSX holds the API's figures; the CLI stores, writes and mails; the ministry sees no small
cells; the qualitative text keeps every version; ReportWorkflow reports the half-year that just ended."""

import asyncio
import email
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from events import commands as cmd
from events.demands import DemandStatus
from services.audit.reports import load_report
from services.auth import Role
from services.cli import app
from services.notifications.mailcatcher import start_mailcatcher
from services.projections.projector import Projector
from services.reports.periods import parse_period
from tests.e2e.conftest import free_port
from tests.integration.audit_support import AuditApi, LeadWriter
from workflows.reports import (
    ReportInput,
    ReportResult,
    ReportsPlugin,
    ReportWorkflow,
    latest_finished_half_year,
)

H1_CUT_OFF = "2025-06-30T23:59:59.999999Z"


@pytest.fixture
async def api(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[AuditApi]:
    monkeypatch.setenv("GROEIRUIMTE_DATABASE_URL", database_url)
    monkeypatch.setenv("GROEIRUIMTE_VAR_DIR", str(tmp_path / "var"))
    api = await AuditApi.on(database_url, var_dir=tmp_path / "var")
    yield api
    await api.container.close()


async def _programme_so_far(api: AuditApi) -> None:
    """2025-H1: three leads in the south, two realised in the east (one confirmed); H2: one more."""
    for investment in (10_000_000, 30_000_000):
        lead = await LeadWriter(api.store).signal("2025-02-01T09:00:00Z", needed_by="2027-06-01")
        await lead.start_case("2025-03-01T09:00:00Z")
        await lead.realise_elsewhere("2025-05-01T09:00:00Z", investment_eur=investment, scale_up=True)
    await lead.do(cmd.ConfirmInvestment(amount_eur=25_000_000), "2025-06-01T09:00:00Z")
    stuck = await LeadWriter(api.store).signal(
        "2025-04-01T09:00:00Z", owner_org="liof", needed_by="2025-12-01"
    )
    await stuck.start_case("2025-04-15T09:00:00Z")
    state = await api.store.load_stream(stuck.stream_id)
    demand_id = state[1].data["demand_id"]
    await stuck.do(
        cmd.ReviseDemand(demand_id=demand_id, status=DemandStatus.UNRESOLVED), "2025-05-01T09:00:00Z"
    )
    await LeadWriter(api.store).signal("2025-09-01T09:00:00Z", owner_org="nom")
    await Projector(api.store.engine).rebuild()


def _sheet_rows(content: bytes, sheet: str) -> dict[str, list[Any]]:
    book = load_workbook(BytesIO(content), read_only=True)
    return {str(row[0]): list(row[1:]) for row in book[sheet].iter_rows(values_only=True) if row and row[0]}


async def test_xlsx_holds_the_same_figures_as_the_api_as_of_the_cut_off(api: AuditApi) -> None:
    await _programme_so_far(api)
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        impact = (await coordinator.get("/v1/monitoring/impact", params={"as_of": H1_CUT_OFF})).json()
        workbook = await coordinator.get("/v1/reports/2025-H1/xlsx")
    assert workbook.status_code == 200
    assert 'filename="groeiruimte-rapportage-2025-H1.xlsx"' in workbook.headers["content-disposition"]
    rows = _sheet_rows(workbook.content, "Kerncijfers")
    for name, figure in impact["figures"].items():
        assert rows[name][1:4] == [figure["value"], figure["pro_rata_target"], figure["target"]], name
    assert rows["leads_in_portfolio"][1] == 3
    assert (
        rows["retained_investment_eur.committed"][1]
        == impact["figures"]["retained_investment_eur"]["committed"]
    )
    assert rows["retained_investment_eur.confirmed"][1] == 25_000_000
    assert rows["voorlopig"][0] == "nee" and rows["vastgesteld"][0] == "nee"


async def test_report_command_stores_the_figures_writes_html_and_xlsx_and_mails_the_coordinator(
    api: AuditApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await _programme_so_far(api)
    port = free_port()
    monkeypatch.setenv("GROEIRUIMTE_SMTP_PORT", str(port))
    catcher = start_mailcatcher(tmp_path / "mail", "127.0.0.1", port)
    try:
        result = await asyncio.to_thread(CliRunner().invoke, app, ["report", "2025-H2"])
    finally:
        catcher.stop()
    assert result.exit_code == 0, result.output
    stored = await load_report(api.store, "2025-H2")
    assert stored.figures_hash in result.output
    reports = tmp_path / "var" / "reports"
    names = sorted(path.name for path in reports.iterdir())
    expected = [f"groeiruimte-rapportage-{p}.{x}" for p in ("2025", "2025-H2") for x in ("html", "xlsx")]
    assert names == sorted(expected)
    annual = _sheet_rows((reports / "groeiruimte-rapportage-2025.xlsx").read_bytes(), "Reeks")
    assert annual["2025-H1"][1] == 3 and annual["2025-H2"][1] == 4
    html = (reports / "groeiruimte-rapportage-2025-H2.html").read_text()
    assert 'lang="nl"' in html and "Vastgesteld" in html and stored.figures_hash in html
    [mail_file] = list((tmp_path / "mail").iterdir())
    mail = email.message_from_bytes(mail_file.read_bytes())
    assert mail["To"] == "coordinator@groeiruimte.example"
    assert mail["Subject"] == "Halfjaarrapportage juli-december 2025 (groeiruimte)"
    attached = sorted(part.get_filename() for part in mail.walk() if part.get_filename())
    assert attached == names


async def test_ministry_sees_breakdowns_without_cells_under_three_leads(api: AuditApi) -> None:
    await _programme_so_far(api)
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        full = (await coordinator.get("/v1/monitoring/breakdowns")).json()
    async with api.as_(Role.MINISTRY, "ministerie-ez") as ministry:
        aggregated = (await ministry.get("/v1/monitoring/breakdowns")).json()
        flows = (await ministry.get("/v1/monitoring/flows")).json()
        report = (await ministry.get("/v1/reports/2025-H1")).json()
    assert full["flows"] == [{"from_region": "zuid", "to_region": "oost", "leads": 2}]
    assert full["bottlenecks"]["zuid"]["space"] == 1
    assert aggregated["suppressed"] and aggregated["partners"] is None
    assert aggregated["flows"] == [{"from_region": "zuid", "to_region": "oost", "leads": None}]
    assert flows["flows"] == aggregated["flows"]
    assert aggregated["bottlenecks"]["zuid"]["space"] is None
    assert full["funnel"] == {"signalled": 4, "articulating": 3, "brokering": 3, "decided": 2, "closed": 0}
    # 4 - 3 = one lead without a demand: articulating and brokering would give it away by subtraction.
    assert aggregated["funnel"] == {
        "signalled": 4,
        "articulating": None,
        "brokering": None,
        "decided": None,
        "closed": 0,
    }
    assert full["current_stages"]["decided"] == 2 and aggregated["current_stages"] is None
    assert report["breakdowns"]["flows"][0]["leads"] is None


async def test_qualitative_text_keeps_every_version_and_refuses_a_stale_edit(api: AuditApi) -> None:
    body = {"ecosystem": "Brandpunten delen nu hun kavels.", "lessons": "Netcapaciteit vroeg vragen."}
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        first = await coordinator.put("/v1/reports/2025-H2/narrative", json={**body, "based_on_version": 0})
        stale = await coordinator.put("/v1/reports/2025-H2/narrative", json={**body, "based_on_version": 0})
        annual = await coordinator.put("/v1/reports/2025/narrative", json=body)
        shown = (await coordinator.get("/v1/reports/2025-H2/narrative")).json()
    async with api.as_(Role.TASKFORCE, "bom") as taskforce:
        refused = await taskforce.put("/v1/reports/2025-H2/narrative", json=body)
    assert first.status_code == 200 and first.json()["version"] == 1
    assert stale.status_code == 422 and stale.json()["invalidParams"][0]["name"] == "based_on_version"
    assert annual.status_code == 422
    assert refused.status_code == 403
    assert shown["ecosystem"] == body["ecosystem"] and shown["written_by"] == "coordinator@nfia"


def test_periods_name_half_years_years_and_the_final_report() -> None:
    start, end = datetime(2025, 1, 1).date(), datetime(2028, 12, 31).date()
    assert parse_period("2026", start, end).half_years == ("2026-H1", "2026-H2")
    assert parse_period("final", start, end).anchor == "2028-H2"
    assert latest_finished_half_year(datetime(2026, 6, 1, 4, tzinfo=UTC)) == "2025-H2"
    assert latest_finished_half_year(datetime(2026, 12, 1, 5, tzinfo=UTC)) == "2026-H1"


class RecordingPublisher:
    """A ReportPublisher that records what it was asked to publish."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []

    async def publish(self, period: str, delivery_id: str) -> ReportResult:
        self.published.append((period, delivery_id))
        return ReportResult(
            period=period, files=[], mailed_to=["coordinator@groeiruimte.example"], figures_hash=None
        )


async def test_report_workflow_publishes_the_half_year_that_ended_last(
    temporal_env: WorkflowEnvironment,
) -> None:
    publisher, queue = RecordingPublisher(), f"reports-{uuid.uuid4()}"
    worker = Worker(temporal_env.client, task_queue=queue, plugins=[ReportsPlugin(publisher)])
    with temporal_env.auto_time_skipping_disabled():  # other tests' timers must not move the clock now
        expected = latest_finished_half_year(await temporal_env.get_current_time())
        async with worker:
            result = await temporal_env.client.execute_workflow(
                ReportWorkflow.run, ReportInput(), id=f"report-{uuid.uuid4()}", task_queue=queue
            )
    assert result.period == expected
    [(period, delivery_id)] = publisher.published
    assert period == expected and delivery_id.startswith(f"report-{expected}-")
