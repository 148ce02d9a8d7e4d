"""The ministry's monitoring through the API: no cell of 1 or 2 leads, and none that can be worked out
from a published total; the coordinator sees the exact numbers."""

import random
import uuid
from collections.abc import AsyncIterator

import pytest

from events import commands as cmd
from events.demands import DemandStatus, SpaceSpec
from events.reference import OutcomeCode, Region
from services.auth import Role
from services.projections.projector import Projector
from services.reports.suppression import suppress_against_totals, suppress_by_leads
from tests.integration.audit_support import AuditApi, LeadWriter

STAGES = ("signalled", "articulating", "brokering", "on_hold", "decided", "closed")
NOT_DECIDED = STAGES[:4]
DECIDED = STAGES[4:]
MINISTRY = (Role.MINISTRY, "ministerie-ez")
COORDINATOR = (Role.COORDINATOR, "nfia")


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _brokering(api: AuditApi, region: Region, unresolved: int) -> LeadWriter:
    """A lead in brokering with `unresolved` space demands that found no room."""
    lead = await LeadWriter(api.store).signal("2025-02-01T09:00:00Z", home_region=region)
    demand_ids = [uuid.uuid4() for _ in range(max(unresolved, 1))]
    for demand_id in demand_ids:
        demand = cmd.ArticulateDemand(demand_id=demand_id, spec=SpaceSpec(floor_area_m2=4000))
        await lead.do(demand, "2025-02-02T09:00:00Z")
    await lead.do(cmd.CompleteArticulation(), "2025-03-01T09:00:00Z")
    for demand_id in demand_ids[:unresolved]:
        revision = cmd.ReviseDemand(demand_id=demand_id, status=DemandStatus.UNRESOLVED)
        await lead.do(revision, "2025-04-01T09:00:00Z")
    return lead


async def _portfolio(api: AuditApi) -> None:
    """3 leads signalled; 4 brokering (one in the south with 3 unresolved demands, three in the west with
    one each); 1 on hold; 1 withdrawn (decided)."""
    for _ in range(3):
        await LeadWriter(api.store).signal("2025-01-15T09:00:00Z")
    await _brokering(api, Region.ZUID, unresolved=3)
    for _ in range(3):
        await _brokering(api, Region.WEST, unresolved=1)
    held = await _brokering(api, Region.NOORD, unresolved=0)
    await held.do(cmd.PutLeadOnHold(reason="company reorganises"), "2025-05-01T09:00:00Z")
    gone = await _brokering(api, Region.OOST, unresolved=0)
    await gone.do(cmd.RecordOutcome(code=OutcomeCode.WITHDRAWN), "2025-05-01T09:00:00Z")
    await Projector(api.store.engine).rebuild()


async def _get(api: AuditApi, who: tuple[Role, str], path: str) -> tuple[int, object]:
    async with api.as_(*who) as client:
        response = await client.get(path)
    return response.status_code, response.json()


async def test_ministry_gets_no_stage_of_fewer_than_three_leads_nor_one_it_could_work_out(
    api: AuditApi,
) -> None:
    await _portfolio(api)
    _, exact = await _get(api, COORDINATOR, "/v1/monitoring/pipeline")
    status, shown = await _get(api, MINISTRY, "/v1/monitoring/pipeline")
    assert exact == {
        "signalled": 3,
        "articulating": 0,
        "brokering": 4,
        "on_hold": 1,
        "decided": 1,
        "closed": 0,
    }
    assert status == 200
    # On hold (1) and decided (1) are hidden. With 8 leads without an outcome (public: all 9 leads minus
    # the funnel's decided) the visible signalled (3) and brokering (4) would give on hold away, and with
    # the 1 decided lead a visible closed (0) would give decided away; so those are hidden too.
    assert shown == dict.fromkeys(STAGES) | {"articulating": 0}


async def test_ministry_bottlenecks_hide_cells_of_fewer_than_three_leads_however_many_demands(
    api: AuditApi,
) -> None:
    await _portfolio(api)
    _, exact = await _get(api, COORDINATOR, "/v1/monitoring/bottlenecks")
    status, shown = await _get(api, MINISTRY, "/v1/monitoring/bottlenecks")
    assert isinstance(exact, dict) and isinstance(shown, dict) and status == 200
    assert exact["by_region"]["zuid"]["space"] == 3 and exact["by_region"]["west"]["space"] == 3
    assert exact["total"] == 6 and exact["suppressed"] is False
    # Three demands in the south, but of one company: hidden. Three companies in the west: shown.
    assert shown["by_region"]["zuid"]["space"] is None
    assert shown["by_region"]["west"]["space"] == 3
    assert shown["by_region"]["noord"]["energy"] == 0
    assert shown["total"] is None and shown["suppressed"] is True


async def test_ministry_sees_suppressed_breakdowns_and_flows_and_no_partner_figures(api: AuditApi) -> None:
    await _portfolio(api)
    _, breakdowns = await _get(api, MINISTRY, "/v1/monitoring/breakdowns")
    _, flows = await _get(api, MINISTRY, "/v1/monitoring/flows")
    partners_status, _ = await _get(api, MINISTRY, "/v1/monitoring/partners")
    _, exact = await _get(api, COORDINATOR, "/v1/monitoring/breakdowns")
    assert isinstance(breakdowns, dict) and isinstance(flows, dict) and isinstance(exact, dict)
    assert exact["bottlenecks"]["zuid"]["space"] == 1 and breakdowns["bottlenecks"]["zuid"]["space"] is None
    assert breakdowns["bottlenecks"]["west"]["space"] == 3
    assert breakdowns["current_stages"] is None and breakdowns["partners"] is None
    assert flows["suppressed"] is True
    assert partners_status == 403


async def test_openapi_documents_a_suppressed_cell_as_null(api: AuditApi) -> None:
    async with api.as_(*COORDINATOR) as client:
        spec = (await client.get("/openapi.json")).json()
    pipeline = spec["components"]["schemas"]["PipelinePublic"]
    bottlenecks = spec["components"]["schemas"]["BottlenecksPublic"]
    cell = bottlenecks["properties"]["by_region"]["additionalProperties"]["additionalProperties"]
    for schema in (pipeline["additionalProperties"], cell):
        assert {"type": "null"} in schema["anyOf"]
        assert "1 or 2 leads" in schema["description"]
    assert {"type": "null"} in bottlenecks["properties"]["total"]["anyOf"]


def _possible_values(row: dict[str, int], shown: dict[str, int | None], key: str) -> set[int]:
    """What a reader who knows the public sums (all, decided, not decided) can tell about one hidden cell:
    a hidden cell is at least 1, unless its whole group is hidden (then zeros are hidden too)."""
    group = NOT_DECIDED if key in NOT_DECIDED else DECIDED
    hidden_in_group = [s for s in group if shown[s] is None]
    hidden_sum = sum(row[s] for s in hidden_in_group)
    others, least = len(hidden_in_group) - 1, 0 if len(hidden_in_group) == len(group) else 1
    if others == 0:
        return {hidden_sum}
    return set(range(least, hidden_sum - others * least + 1))


def test_no_hidden_small_stage_can_be_worked_out_from_the_public_sums() -> None:
    rows = random.Random(5)
    for _ in range(2000):
        row = {stage: rows.choice((0, 0, 1, 2, 3, 4, 7)) for stage in STAGES}
        shown = suppress_against_totals(row, STAGES, NOT_DECIDED, DECIDED)
        for stage, value in row.items():
            assert shown[stage] in (value, None), (row, shown)
            if 0 < value < 3:
                assert shown[stage] is None, (row, shown)
                assert len(_possible_values(row, shown, stage)) > 1, (row, shown)


def test_demand_counts_are_hidden_by_the_number_of_leads_behind_them() -> None:
    counts = {"zuid": {"space": 5, "energy": 3, "talent": 0}}
    leads = {"zuid": {"space": 2, "energy": 3, "talent": 0}}
    assert suppress_by_leads(counts, leads) == {"zuid": {"space": None, "energy": 3, "talent": 0}}
