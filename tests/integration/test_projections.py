"""Read models built by the projector from the real event log, on SQLite and PostgreSQL alike."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from events import model as ev
from events.demands import DemandSpec, EnergySpec, SpaceSpec
from events.details import Company, LeadDetails
from events.lead import fold
from events.reference import CompanyStage, Domain, OutcomeCode, Province, Region
from events.store import Actor, EventMetadata, NewEvent
from services.persistence.event_store import SqlEventStore
from services.projections.projector import Projector
from services.projections.queries import (
    find_partner_request,
    get_lead_state,
    impact_figures,
    list_leads,
    partner_inbox,
    pipeline,
)
from services.projections.tables import READ_MODEL_TABLES, projection_checkpoints
from services.settings import ImpactTargets

METADATA = EventMetadata(actor=Actor(sub="t", org="bom", role="taskforce"))
START, END = date(2025, 1, 1), date(2028, 12, 31)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


class Lead:
    """One lead's history, appended event by event through the real store."""

    def __init__(self, store: SqlEventStore) -> None:
        self.store = store
        self.lead_id = uuid4()
        self.version = 0

    async def add(self, event: ev.DomainEvent, occurred_at: datetime) -> None:
        new = NewEvent.from_domain(event, event_id=uuid4(), occurred_at=occurred_at, metadata=METADATA)
        await self.store.append(f"lead-{self.lead_id}", self.version, [new])
        self.version += 1

    async def signal(self, occurred_at: datetime, name: str = "Fotonica BV", **details: Any) -> "Lead":
        defaults: dict[str, Any] = {
            "owner_org": "bom",
            "home_region": Region.ZUID,
            "province": Province.NOORD_BRABANT,
            "domains": [Domain.PHOTONICS],
        }
        lead_details = LeadDetails(company=Company(name=name), **(defaults | details))
        code_name = f"Project {name.split()[0]}"
        await self.add(
            ev.LeadSignalled(lead_id=self.lead_id, code_name=code_name, details=lead_details), occurred_at
        )
        return self

    async def articulate(self, occurred_at: datetime, spec: DemandSpec | None = None) -> UUID:
        demand_id = uuid4()
        await self.add(ev.DemandArticulated(demand_id=demand_id, spec=spec or SpaceSpec()), occurred_at)
        return demand_id

    async def start_case(self, occurred_at: datetime) -> None:
        await self.articulate(occurred_at)
        await self.add(ev.ArticulationCompleted(demand_count=1), occurred_at)

    async def outcome(self, code: OutcomeCode, occurred_at: datetime, **fields: Any) -> None:
        await self.add(ev.OutcomeRecorded(code=code, **fields), occurred_at)

    async def become_scale_up(self, occurred_at: datetime) -> None:
        stage_changed = ev.CompanyStageChanged(
            from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP
        )
        await self.add(stage_changed, occurred_at)

    async def ask(self, partner_id: str, demand_ids: list[UUID], occurred_at: datetime) -> UUID:
        request_id = uuid4()
        event = ev.PartnerRequestSent(
            request_id=request_id,
            partner_id=partner_id,
            demand_ids=demand_ids,
            question="Is there room?",
            due_date=date(2026, 3, 1),
        )
        await self.add(event, occurred_at)
        return request_id


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(engine)
    yield store
    await store.close()


async def project(engine: AsyncEngine) -> None:
    await Projector(engine).run_once()


async def impact_as_of(engine: AsyncEngine, as_of: datetime) -> dict[str, Any]:
    report = await impact_figures(
        engine, targets=ImpactTargets(), programme_start=START, programme_end=END, as_of=as_of
    )
    figures: dict[str, Any] = report.model_dump(mode="json")["figures"]
    return figures


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    tables = (*READ_MODEL_TABLES, projection_checkpoints)
    async with engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping)
                for row in await connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in tables
        }


async def test_list_filters_by_stage_region_domain_and_owner_org(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    zuid = await Lead(store).signal(at(2025, 3, 1), "Fotonica BV")
    noord = await Lead(store).signal(
        at(2025, 4, 1),
        "Qubit BV",
        owner_org="nom",
        home_region=Region.NOORD,
        province=Province.GRONINGEN,
        domains=[Domain.QUANTUM, Domain.SEMICONDUCTORS],
    )
    west = await Lead(store).signal(
        at(2025, 5, 1),
        "Chip BV",
        owner_org="innovationquarter",
        home_region=Region.WEST,
        province=Province.ZUID_HOLLAND,
        domains=[Domain.SEMICONDUCTORS],
    )
    await noord.start_case(at(2025, 6, 1))
    await project(engine)

    async def ids(**filters: Any) -> list[UUID]:
        count, rows = await list_leads(engine, **filters)
        assert count == len(rows)
        return [row.lead_id for row in rows]

    assert await ids() == [west.lead_id, noord.lead_id, zuid.lead_id]
    assert await ids(stage="brokering") == [noord.lead_id]
    assert await ids(region="noord") == [noord.lead_id]
    assert await ids(domain="semiconductors") == [west.lead_id, noord.lead_id]
    assert await ids(owner_org="bom") == [zuid.lead_id]
    assert await ids(domain="semiconductors", region="west") == [west.lead_id]
    assert await ids(domain="imaging") == []

    _, (row,) = await list_leads(engine, region="noord")
    assert (row.code_name, row.company_name, row.stage, row.demand_count) == (
        "Project Qubit",
        "Qubit BV",
        "brokering",
        1,
    )
    assert row.domains == [Domain.QUANTUM, Domain.SEMICONDUCTORS]
    assert row.articulation_completed_at == at(2025, 6, 1)


async def test_list_pages_through_leads_newest_signalled_first(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    leads = [await Lead(store).signal(at(2025, 1, day)) for day in range(1, 6)]
    await project(engine)
    newest_first = [lead.lead_id for lead in reversed(leads)]

    count, first = await list_leads(engine, limit=2)
    _, second = await list_leads(engine, limit=2, offset=2)
    _, last = await list_leads(engine, limit=2, offset=4)

    assert count == 5
    assert [row.lead_id for row in first + second + last] == newest_first


async def test_lead_state_and_pipeline_follow_the_log(engine: AsyncEngine, store: SqlEventStore) -> None:
    signalled = await Lead(store).signal(at(2025, 2, 1))
    brokering = await Lead(store).signal(at(2025, 2, 2))
    await brokering.start_case(at(2025, 3, 1))
    on_hold = await Lead(store).signal(at(2025, 2, 3))
    await on_hold.add(ev.LeadPutOnHold(reason="funding round", from_stage="signalled"), at(2025, 3, 2))
    await project(engine)

    assert await pipeline(engine) == {
        "signalled": 1,
        "articulating": 0,
        "brokering": 1,
        "on_hold": 1,
        "decided": 0,
        "closed": 0,
    }
    state = await get_lead_state(engine, brokering.lead_id)
    events = await store.load_stream(f"lead-{brokering.lead_id}")
    assert state == fold((event.to_domain(), event.occurred_at) for event in events)
    assert await get_lead_state(engine, signalled.lead_id) is not None
    assert await get_lead_state(engine, uuid4()) is None


async def test_realised_other_region_counts_from_its_business_time(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await lead.start_case(at(2025, 5, 1))
    # Recorded today, back-dated to the meeting where the company chose Groningen.
    await lead.outcome(
        OutcomeCode.REALISED_OTHER_REGION, at(2026, 2, 1), region=Region.NOORD, investment_eur=40e6, jobs=120
    )
    await project(engine)

    before = await impact_as_of(engine, at(2026, 1, 31))
    after = await impact_as_of(engine, at(2026, 2, 2))
    before_signal = await impact_as_of(engine, at(2025, 2, 1))

    assert before["realised_other_region"]["value"] == 0
    assert before["leads_in_portfolio"]["value"] == 1
    assert before["case_approaches_started"]["value"] == 1
    assert before["retained_investment_eur"]["value"] == 0
    assert after["realised_other_region"] == {"value": 1, "target": 12.0, "pro_rata_target": 3.26}
    assert after["retained_investment_eur"]["committed"] == 40e6
    assert before_signal["leads_in_portfolio"]["value"] == 0
    assert before_signal["case_approaches_started"]["value"] == 0


async def test_retained_investment_shows_committed_and_confirmed_apart(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    other = await Lead(store).signal(at(2025, 3, 1))
    await other.start_case(at(2025, 4, 1))
    await other.outcome(
        OutcomeCode.REALISED_OTHER_REGION, at(2025, 9, 1), region=Region.OOST, investment_eur=100e6
    )
    await other.add(ev.InvestmentConfirmed(amount_eur=80e6, jobs=90), at(2026, 6, 1))
    own = await Lead(store).signal(at(2025, 3, 2))
    await own.outcome(OutcomeCode.REALISED_OWN_REGION, at(2025, 10, 1), investment_eur=50e6)
    abroad = await Lead(store).signal(at(2025, 3, 3))
    await abroad.outcome(OutcomeCode.LEFT_ABROAD, at(2025, 10, 2), country="US", investment_eur=999e6)
    await project(engine)

    before_confirmation = (await impact_as_of(engine, at(2026, 1, 1)))["retained_investment_eur"]
    after_confirmation = (await impact_as_of(engine, at(2026, 7, 1)))["retained_investment_eur"]

    assert before_confirmation["value"] == before_confirmation["committed"] == 150e6
    assert before_confirmation["confirmed"] == 0
    assert after_confirmation["value"] == after_confirmation["committed"] == 150e6
    assert after_confirmation["confirmed"] == 80e6
    assert after_confirmation["target"] == 1.5e9


async def test_new_scale_ups_count_only_leads_realised_in_another_region(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    scaled = await Lead(store).signal(at(2025, 3, 1))
    await scaled.start_case(at(2025, 4, 1))
    await scaled.outcome(OutcomeCode.REALISED_OTHER_REGION, at(2025, 9, 1), region=Region.WEST)
    await scaled.become_scale_up(at(2026, 3, 1))
    not_scaled = await Lead(store).signal(at(2025, 3, 2))
    await not_scaled.start_case(at(2025, 4, 2))
    await not_scaled.outcome(OutcomeCode.REALISED_OTHER_REGION, at(2025, 9, 2), region=Region.WEST)
    stayed_home = await Lead(store).signal(at(2025, 3, 3))
    await stayed_home.become_scale_up(at(2025, 5, 1))
    await stayed_home.outcome(OutcomeCode.REALISED_OWN_REGION, at(2025, 9, 3))
    await project(engine)

    before = await impact_as_of(engine, at(2026, 2, 1))
    after = await impact_as_of(engine, at(2026, 4, 1))

    assert before["realised_other_region"]["value"] == 2
    assert before["new_scale_ups"]["value"] == 0
    assert after["new_scale_ups"]["value"] == 1


async def test_partner_inbox_only_returns_the_partners_requests(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    space = await lead.articulate(at(2025, 3, 2), SpaceSpec(floor_area_m2=5000))
    energy = await lead.articulate(at(2025, 3, 2), EnergySpec(grid_capacity_mva=20))
    await lead.add(ev.ArticulationCompleted(demand_count=2), at(2025, 3, 3))
    to_province = await lead.ask("provincie-noord-brabant", [space, energy], at(2025, 3, 4))
    to_grid = await lead.ask("enexis", [energy], at(2025, 3, 5))
    other = await Lead(store).signal(at(2025, 3, 6), "Other BV")
    other_request = await other.ask("provincie-noord-brabant", [], at(2025, 3, 7))
    await lead.add(
        ev.PartnerResponded(request_id=to_grid, partner_id="enexis", answer="decline", reason="congestion"),
        at(2025, 3, 8),
    )
    await project(engine)

    province_inbox = await partner_inbox(engine, "provincie-noord-brabant")
    grid_inbox = await partner_inbox(engine, "enexis")

    assert [row.request_id for row in province_inbox] == [other_request, to_province]
    assert province_inbox[1].demand_kinds == ["energy", "space"]
    assert province_inbox[1].code_name == "Project Fotonica"
    assert [(row.request_id, row.status, row.answer) for row in grid_inbox] == [
        (to_grid, "answered", "decline")
    ]
    assert grid_inbox[0].answered_at == at(2025, 3, 8)
    assert await partner_inbox(engine, "tennet") == []
    found = await find_partner_request(engine, to_province)
    assert found is not None and found.partner_id == "provincie-noord-brabant" and found.status == "open"
    assert await find_partner_request(engine, uuid4()) is None
    _, (summary,) = await list_leads(engine, owner_org="bom", limit=1, offset=1)
    assert summary.open_partner_requests == 1


async def build_varied_history(store: SqlEventStore, projector: Projector) -> None:
    """Several leads through every kind of step, projecting in small batches between appends."""
    leads = [await Lead(store).signal(at(2025, 2, day), f"Firm{day} BV") for day in range(1, 5)]
    await projector.run_once()
    for index, lead in enumerate(leads):
        demand = await lead.articulate(at(2025, 3, 1), EnergySpec(grid_capacity_mva=10 + index))
        await projector.run_once()
        await lead.add(ev.ArticulationCompleted(demand_count=1), at(2025, 3, 2))
        request = await lead.ask("tennet", [demand], at(2025, 3, 3))
        await lead.add(ev.NoteAdded(note_id=uuid4(), text="called the CFO"), at(2025, 3, 4))
        await projector.run_once()
        await lead.add(
            ev.PartnerResponded(request_id=request, partner_id="tennet", answer="offer"), at(2025, 4, 1)
        )
    await leads[0].outcome(
        OutcomeCode.REALISED_OTHER_REGION, at(2025, 9, 1), region=Region.NOORD, investment_eur=9e6
    )
    await leads[0].add(ev.InvestmentConfirmed(amount_eur=8e6), at(2026, 1, 1))
    await leads[0].add(ev.LeadClosed(), at(2026, 2, 1))
    await leads[1].add(ev.LeadPutOnHold(reason="paused", from_stage="brokering"), at(2025, 9, 2))
    await projector.run_once()
    await leads[2].become_scale_up(at(2025, 9, 3))
    await leads[3].outcome(OutcomeCode.NO_PROPOSITION, at(2025, 9, 4))


async def test_rebuild_gives_identical_read_models(engine: AsyncEngine, store: SqlEventStore) -> None:
    projector = Projector(engine, batch_size=3)
    await build_varied_history(store, projector)
    while await projector.run_once():
        pass
    incremental = await snapshot(engine)

    applied = await projector.rebuild()

    assert applied == len(await store.read_all())
    assert await snapshot(engine) == incremental
    assert len(incremental["lead_summaries"]) == 4
    assert incremental["projection_checkpoints"] == [{"name": "lead_read_models", "position": applied}]


async def test_projector_resumes_from_checkpoint_without_double_applying(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    for day in range(2, 6):
        await lead.articulate(at(2025, 3, day))
    assert await Projector(engine, batch_size=2).run_once() == 2

    # A new process starts where the last one committed.
    assert await Projector(engine, batch_size=2).run_once() == 2
    await lead.add(ev.ArticulationCompleted(demand_count=4), at(2025, 3, 9))
    assert await Projector(engine).run_once() == 2
    assert await Projector(engine).run_once() == 0

    state = await get_lead_state(engine, lead.lead_id)
    assert state is not None
    assert (state.version, len(state.demands), state.stage) == (6, 4, "brokering")


async def test_concurrent_projectors_apply_each_event_once(engine: AsyncEngine, store: SqlEventStore) -> None:
    leads = [await Lead(store).signal(at(2025, 3, day)) for day in range(1, 4)]
    for lead in leads:
        for day in range(1, 6):
            await lead.articulate(at(2025, 4, day))

    async def drain(projector: Projector) -> int:
        total = 0
        while applied := await projector.run_once():
            total += applied
        return total

    applied = await asyncio.gather(*(drain(Projector(engine, batch_size=2)) for _ in range(3)))

    assert sum(applied) == 18
    for lead in leads:
        state = await get_lead_state(engine, lead.lead_id)
        assert state is not None and (state.version, len(state.demands)) == (6, 5)


async def test_run_projects_new_events_until_stopped(engine: AsyncEngine, store: SqlEventStore) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(Projector(engine).run(stop, poll_seconds=0.01))
    lead = await Lead(store).signal(at(2025, 3, 1))

    for _ in range(1000):
        if await get_lead_state(engine, lead.lead_id) is not None:
            break
        await asyncio.sleep(0.01)
    assert await get_lead_state(engine, lead.lead_id) is not None
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert running.done() and running.exception() is None


async def test_a_failing_batch_changes_neither_read_models_nor_checkpoint(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    good = await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    await good.articulate(at(2025, 3, 2))
    # A history that cannot start with a note: evolve refuses it mid-batch.
    await Lead(store).add(ev.NoteAdded(note_id=uuid4(), text="orphan"), at(2025, 3, 3))
    before = await snapshot(engine)

    with pytest.raises(ValueError, match="cannot start"):
        await project(engine)

    assert await snapshot(engine) == before
