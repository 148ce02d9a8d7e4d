"""Read answers kept per projection checkpoint: reused while it stands, new once the projector moves it."""

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from events import model as ev
from events.reference import OutcomeCode, Region
from services.lead_reads import load_history, load_lead, state_from
from services.persistence.event_store import SqlEventStore
from services.projections.monitoring import bottlenecks, partner_responsiveness
from services.projections.projector import Projector
from services.projections.queries import impact_figures, list_leads, pipeline
from services.reports.dashboard import current_breakdowns
from services.settings import ImpactTargets
from tests.integration.sent_statements import statements_sent
from tests.integration.test_projections import END, START, Lead, at, project, store

__all__ = ["store"]  # the fixture, shared with test_projections


async def impact(engine: AsyncEngine, as_of: datetime) -> dict[str, Any]:
    report = await impact_figures(
        engine, targets=ImpactTargets(), programme_start=START, programme_end=END, as_of=as_of
    )
    return {name: figure["value"] for name, figure in report.model_dump(mode="json")["figures"].items()}


async def test_pipeline_changes_once_new_events_are_projected(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    first = await Lead(store).signal(at(2025, 2, 1))
    await project(engine)
    before = await pipeline(engine)

    await first.start_case(at(2025, 3, 1))
    await Lead(store).signal(at(2025, 3, 2))
    unprojected = await pipeline(engine)
    await project(engine)
    after = await pipeline(engine)

    assert before["signalled"] == 1 and before["brokering"] == 0
    assert unprojected == before  # the read models have not moved yet
    assert after["signalled"] == 1 and after["brokering"] == 1


async def test_impact_as_of_any_moment_matches_the_events_at_one_checkpoint(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await lead.start_case(at(2025, 5, 1))
    await lead.outcome(
        OutcomeCode.REALISED_OTHER_REGION, at(2026, 2, 1), region=Region.NOORD, investment_eur=40e6, jobs=120
    )
    await project(engine)

    # Asked in an order that crosses the kept spans back and forth; each moment exactly on an event too.
    moments = [
        at(2026, 3, 1),
        at(2025, 2, 1),
        at(2026, 2, 1),
        at(2025, 4, 1),
        at(2025, 3, 1),
        at(2026, 1, 31),
    ]
    answers = {moment: await impact(engine, moment) for moment in moments}

    assert [answers[m]["leads_in_portfolio"] for m in moments] == [1, 0, 1, 1, 1, 1]
    assert [answers[m]["case_approaches_started"] for m in moments] == [1, 0, 1, 0, 0, 1]
    assert [answers[m]["realised_other_region"] for m in moments] == [1, 0, 1, 0, 0, 0]
    assert [answers[m]["retained_investment_eur"] for m in moments] == [40e6, 0, 40e6, 0, 0, 0]


async def test_impact_now_counts_a_lead_signalled_after_the_last_answer(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    before = await impact(engine, datetime.now(UTC))

    await Lead(store).signal(at(2025, 4, 1))
    await project(engine)
    after = await impact(engine, datetime.now(UTC))

    assert (before["leads_in_portfolio"], after["leads_in_portfolio"]) == (1, 2)


async def test_partner_figures_change_once_an_answer_is_projected_and_with_the_day(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    demand = await lead.articulate(at(2025, 3, 2))
    request_id = await lead.ask("invest-nl", [demand], at(2025, 3, 3))  # due 2026-03-01
    await project(engine)
    open_before_due = await partner_responsiveness(engine, date(2026, 2, 1))
    open_after_due = await partner_responsiveness(engine, date(2026, 3, 2))

    await lead.add(
        ev.PartnerResponded(request_id=request_id, partner_id="invest-nl", answer="offer"), at(2025, 3, 7)
    )
    await project(engine)
    answered = await partner_responsiveness(engine, date(2026, 3, 2))

    assert [(p.open, p.overdue, p.offers) for p in open_before_due] == [(1, 0, 0)]
    assert [(p.open, p.overdue, p.offers) for p in open_after_due] == [(1, 1, 0)]
    assert [(p.open, p.overdue, p.offers, p.median_response_days) for p in answered] == [(0, 0, 1, 4.0)]


async def test_bottlenecks_and_breakdowns_follow_the_projected_log(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    empty = await bottlenecks(engine)
    first = await current_breakdowns(engine, at(2025, 6, 1))

    await lead.articulate(at(2025, 3, 2))
    await Lead(store).signal(at(2025, 3, 3))
    await project(engine)
    grown = await bottlenecks(engine)
    second = await current_breakdowns(engine, at(2025, 6, 2))

    assert empty.total == 0 and grown.total == 0  # a new demand is still open, not unresolved
    assert first.funnel["signalled"] == 1 and first.funnel["articulating"] == 0
    assert second.funnel["signalled"] == 2 and second.funnel["articulating"] == 1
    assert (first.as_of, second.as_of) == (at(2025, 6, 1), at(2025, 6, 2))


async def test_an_answer_changed_by_its_caller_is_not_what_the_next_caller_gets(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    (await pipeline(engine))["signalled"] = 99

    assert (await pipeline(engine))["signalled"] == 1


async def test_a_rebuild_answers_as_before(engine: AsyncEngine, store: SqlEventStore) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await lead.start_case(at(2025, 3, 5))
    await project(engine)
    before = await pipeline(engine), await impact(engine, at(2025, 4, 1))

    await Projector(engine).rebuild()

    assert (await pipeline(engine), await impact(engine, at(2025, 4, 1))) == before


async def test_a_lead_is_read_from_the_read_model_only_when_it_holds_the_last_event(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    projected = await load_lead(store, lead.lead_id)

    await lead.articulate(at(2025, 3, 2))  # not projected yet
    behind = await load_lead(store, lead.lead_id)
    folded = state_from(await load_history(store, lead.lead_id))

    assert projected is not None and projected.version == 1
    assert behind == folded and behind is not None and behind.version == 2


async def test_concurrent_readers_share_checkpoint_reads_yet_see_what_was_projected_before_they_came(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    lead = await Lead(store).signal(at(2025, 3, 1))
    await project(engine)
    together = await asyncio.gather(*(pipeline(engine) for _ in range(20)))

    await lead.start_case(at(2025, 3, 5))
    await project(engine)
    after = await asyncio.gather(*(pipeline(engine) for _ in range(20)))

    assert {(p["signalled"], p["brokering"]) for p in together} == {(1, 0)}
    assert {(p["signalled"], p["brokering"]) for p in after} == {(0, 1)}


async def test_a_page_of_the_lead_list_is_read_once_per_checkpoint_and_follows_the_projector(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    first = await Lead(store).signal(at(2025, 2, 1))
    await Lead(store).signal(at(2025, 2, 2), name="Qubit BV", home_region=Region.NOORD)
    await project(engine)
    before = await list_leads(engine, region="zuid")
    statements = statements_sent(engine)

    again = await list_leads(engine, region="zuid")
    await asyncio.sleep(0)  # the driver reports what it sent on the next turn of the loop
    read_again = list(statements)
    await first.start_case(at(2025, 3, 1))
    await Lead(store).signal(at(2025, 3, 2), name="Chips BV")
    unprojected = await list_leads(engine, region="zuid")
    await project(engine)
    after = await list_leads(engine, region="zuid")
    brokering = await list_leads(engine, region="zuid", stage="brokering")

    assert before == again and before[0] == 1
    assert read_again and all("projection_checkpoints" in s for s in read_again)  # the page was kept
    assert unprojected == before  # the read models have not moved yet
    assert after[0] == 2 and [row.code_name for row in after[1]] == ["Project Chips", "Project Fotonica"]
    assert brokering[0] == 1 and brokering[1][0].stage == "brokering"
