"""Half-year reports: computed from the log as of the cut-off, stored with a hash, and re-checkable later."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from events import commands as cmd
from services.audit.reports import cut_off_of, load_report
from services.auth import Role
from services.cli_audit import audit_app
from services.projections.projector import Projector
from tests.integration.audit_support import AuditApi, LeadWriter, change_data

CUT_OFF = "2025-06-30T23:59:59.999999Z"


@pytest.fixture
async def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AuditApi]:
    monkeypatch.setenv("GROEIRUIMTE_DATABASE_URL", database_url)
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit_app, list(args))
    return result.exit_code, result.output


async def _first_half_of_2025(api: AuditApi) -> LeadWriter:
    """Two leads in 2025-H1 (one realised in another region as a new scale-up), one in H2."""
    realised = await LeadWriter(api.store).signal("2025-03-01T09:00:00Z")
    await realised.start_case("2025-04-01T09:00:00Z")
    await realised.realise_elsewhere("2025-05-01T09:00:00Z", investment_eur=10_000_000, scale_up=True)
    await realised.do(cmd.ConfirmInvestment(amount_eur=8_000_000), "2025-06-01T09:00:00Z")
    started = await LeadWriter(api.store).signal("2025-05-10T09:00:00Z", owner_org="liof")
    await started.start_case("2025-05-20T09:00:00Z")
    await LeadWriter(api.store).signal("2025-08-01T09:00:00Z")
    return realised


def _values(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figure["value"] for name, figure in figures["figures"].items()}


H1_VALUES = {
    "leads_in_portfolio": 2,
    "case_approaches_started": 2,
    "realised_other_region": 1,
    "new_scale_ups": 1,
    "retained_investment_eur": 10_000_000.0,
}


async def test_report_recomputes_identically_after_back_dated_events_are_recorded(api: AuditApi) -> None:
    await _first_half_of_2025(api)
    code, output = await asyncio.to_thread(_cli, "report-figures", "2025-H1")
    assert code == 0, output
    report = await load_report(api.store, "2025-H1")
    assert report.cut_off == cut_off_of("2025-H1")
    assert _values(report.figures) == H1_VALUES
    assert report.figures["figures"]["retained_investment_eur"]["confirmed"] == 8_000_000.0
    assert report.figures_hash in output

    await LeadWriter(api.store).signal("2025-06-15T09:00:00Z", owner_org="nom")  # back-dated, recorded now
    assert await asyncio.to_thread(_cli, "check-report", "2025-H1") == (
        0,
        "OK: 2025-H1 recomputes to the stored figures and hash\n",
    )
    async with api.as_(Role.MINISTRY, "ministerie-ez") as ministry:
        as_reported = await ministry.get(
            "/v1/monitoring/impact", params={"as_of": CUT_OFF, "known_at": report.known_at.isoformat()}
        )
        as_known_now = await ministry.get(
            "/v1/monitoring/impact", params={"as_of": CUT_OFF, "known_at": "2999-01-01T00:00:00Z"}
        )
    assert as_reported.json()["figures"] == report.figures["figures"]
    assert _values(as_known_now.json())["leads_in_portfolio"] == 3


async def test_figures_from_the_log_equal_the_read_models(api: AuditApi) -> None:
    await _first_half_of_2025(api)
    await Projector(api.store.engine).run_once()
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        for as_of in ("2025-04-15T00:00:00Z", CUT_OFF, "2025-12-31T00:00:00Z"):
            read_models = (await coordinator.get("/v1/monitoring/impact", params={"as_of": as_of})).json()
            params = {"as_of": as_of, "known_at": "2999-01-01T00:00:00Z"}
            from_log = (await coordinator.get("/v1/monitoring/impact", params=params)).json()
            assert from_log == read_models


async def test_check_report_detects_a_changed_figure_in_the_stored_report(api: AuditApi) -> None:
    await _first_half_of_2025(api)
    assert (await asyncio.to_thread(_cli, "report-figures", "2025-H1"))[0] == 0
    report = await load_report(api.store, "2025-H1")
    changed = json.loads(json.dumps(report.figures))
    changed["figures"]["leads_in_portfolio"]["value"] = 3
    statement = "UPDATE reports SET figures = {} WHERE period = '2025-H1'".format(
        "CAST(:figures AS json)" if api.store.engine.dialect.name == "postgresql" else ":figures"
    )
    async with api.store.engine.begin() as connection:
        await connection.execute(text(statement), {"figures": json.dumps(changed)})

    code, output = await asyncio.to_thread(_cli, "check-report", "2025-H1")
    assert code == 1
    assert "the stored figures do not match their stored hash" in output
    assert "the figures recomputed from the log differ" not in output
    assert "leads_in_portfolio: reported {'value': 3" in output


async def test_check_report_detects_a_changed_event_behind_a_figure(api: AuditApi) -> None:
    realised = await _first_half_of_2025(api)
    assert (await asyncio.to_thread(_cli, "report-figures", "2025-H1"))[0] == 0
    outcome = next(e for e in await api.store.load_stream(realised.stream_id) if e.type == "OutcomeRecorded")
    await change_data(api.store.engine, outcome.position, {**outcome.data, "investment_eur": 90_000_000})

    code, output = await asyncio.to_thread(_cli, "check-report", "2025-H1")
    assert code == 1
    assert "the figures recomputed from the log differ from the report" in output
    assert "retained_investment_eur" in output


async def test_a_period_is_reported_once_and_only_after_it_ended(api: AuditApi) -> None:
    assert (await asyncio.to_thread(_cli, "report-figures", "2025-H1"))[0] == 0
    code, output = await asyncio.to_thread(_cli, "report-figures", "2025-H1")
    assert (code, "already been reported" in output) == (1, True)
    code, output = await asyncio.to_thread(_cli, "report-figures", "2999-H2")
    assert (code, "report it after that" in output) == (1, True)
    assert (await asyncio.to_thread(_cli, "report-figures", "2025-Q1"))[0] == 1
    assert (await asyncio.to_thread(_cli, "check-report", "2024-H2"))[0] == 2
