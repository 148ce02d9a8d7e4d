"""Brokering timers on Temporal's time-skipping server: weeks of simulated time in seconds."""

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from events import commands as cmd
from events.demands import SpaceSpec
from events.details import Company, LeadDetails
from events.reference import Region
from events.store import Actor, StoredEvent
from services.binaries import find_binary
from services.lead_commands import LeadCommandService
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.temporal import data_converter
from tests.fakes import RecordingNotifier
from workflows.payloads import CommandInput, workflow_id_for

ACTOR = Actor(sub="anna@bom.nl", org="bom", role="taskforce")


class Case:
    """A lead in brokering with one open partner request, driven through the real workflow."""

    def __init__(
        self, env: WorkflowEnvironment, store: SqlEventStore, worker: Worker, **policy: object
    ) -> None:
        settings = Settings(temporal_task_queue=worker.task_queue, command_timeout_seconds=30, **policy)
        self.service = LeadCommandService(env.client, store, settings)
        self.store = store
        self.lead_id = uuid.uuid4()
        self.request_id = uuid.uuid4()

    async def run(self, command: object) -> None:
        await self.service.execute(
            self.lead_id, CommandInput(command=command, actor=ACTOR), str(uuid.uuid4())
        )

    async def start_brokering(self, due_date: date) -> None:
        details = LeadDetails(company=Company(name="Fotonica BV"), owner_org="bom", home_region=Region.ZUID)
        signal = CommandInput(command=cmd.SignalLead(lead_id=self.lead_id, details=details), actor=ACTOR)
        await self.service.signal(self.lead_id, signal, str(uuid.uuid4()))
        demand_id = uuid.uuid4()
        await self.run(cmd.ArticulateDemand(demand_id=demand_id, spec=SpaceSpec(floor_area_m2=4000)))
        await self.run(cmd.CompleteArticulation())
        await self.run(
            cmd.SendPartnerRequest(
                request_id=self.request_id,
                partner_id="provincie-gelderland",
                demand_ids=[demand_id],
                question="Room for a fab?",
                due_date=due_date,
            )
        )

    async def events(self, event_type: str) -> list[StoredEvent]:
        history = await self.store.load_stream(workflow_id_for(self.lead_id))
        return [event for event in history if event.type == event_type]


def _days(events: list[StoredEvent]) -> list[date]:
    return [event.occurred_at.date() for event in events]


@pytest.fixture(scope="module")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: skipping weeks of time must not also fire other tests' leftover timers."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield env
    await env.shutdown()


EXPECTED_DAYS = {
    2026: ([date(2026, 12, 18), date(2026, 12, 28), date(2027, 1, 5)], date(2027, 1, 12)),
    2027: ([date(2027, 12, 20), date(2027, 12, 27), date(2028, 1, 3)], date(2028, 1, 10)),
}


@pytest.fixture
async def now(temporal_env: WorkflowEnvironment) -> datetime:
    return await temporal_env.get_current_time()


async def test_partner_gets_reminders_on_working_days_then_escalation(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    case = Case(temporal_env, store, worker, stale_after_days=3650)
    due = date(now.year, 12, 17) if now.date() < date(now.year, 12, 10) else date(now.year + 1, 12, 17)
    await case.start_brokering(due_date=due)
    await temporal_env.sleep(
        datetime.combine(due, datetime.min.time(), now.tzinfo) - now + timedelta(days=45)
    )
    # Every 5 working days from the first working day after the due date, skipping weekends,
    # Christmas, Boxing Day and New Year's Day; escalation 5 working days after the last reminder.
    expected_reminders, expected_escalation = EXPECTED_DAYS[due.year]
    reminders = await case.events("PartnerReminderSent")
    assert _days(reminders) == expected_reminders
    assert [e.data["reminder_number"] for e in reminders] == [1, 2, 3]
    assert _days(await case.events("PartnerRequestEscalated")) == [expected_escalation]
    assert [d.purpose for d in notifier.deliveries] == [
        "request",
        "reminder",
        "reminder",
        "reminder",
        "escalation",
    ]
    assert all(e.metadata.actor.role == "system" for e in await case.events("PartnerReminderSent"))


async def test_an_answer_stops_the_reminders(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    case = Case(temporal_env, store, worker, stale_after_days=3650)
    await case.start_brokering(due_date=(now + timedelta(days=7)).date())
    await temporal_env.sleep(timedelta(days=12))
    reminders_before = len(await case.events("PartnerReminderSent"))
    await case.run(
        cmd.RespondToPartnerRequest(request_id=case.request_id, answer="decline", reason="no room")
    )
    await temporal_env.sleep(timedelta(days=60))
    assert reminders_before >= 1
    assert len(await case.events("PartnerReminderSent")) == reminders_before
    assert await case.events("PartnerRequestEscalated") == []


async def test_stale_lead_nudges_its_owner_once_per_quiet_period(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    case = Case(temporal_env, store, worker, stale_after_days=30)
    await case.start_brokering(due_date=(now + timedelta(days=400)).date())
    await temporal_env.sleep(timedelta(days=75))
    nudges = await case.events("OwnerNudged")
    assert len(nudges) == 2
    assert [n.data["inactive_days"] for n in nudges] == [30, 60]
    assert len(notifier.of("nudge")) == 2


async def test_realised_outcome_asks_for_aftercare_after_the_configured_period(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    case = Case(temporal_env, store, worker, aftercare_after_days=90, stale_after_days=3650)
    await case.start_brokering(due_date=(now + timedelta(days=5)).date())
    await case.run(cmd.RecordOutcome(code="realised_own_region", investment_eur=10_000_000))
    await temporal_env.sleep(timedelta(days=89))
    assert await case.events("AftercareRequested") == []
    await temporal_env.sleep(timedelta(days=2))
    assert len(await case.events("AftercareRequested")) == 1
    assert len(notifier.of("aftercare")) == 1
    await case.run(cmd.ConfirmInvestment(amount_eur=9_500_000))
    assert (await case.events("InvestmentConfirmed"))[0].data["amount_eur"] == 9_500_000
    assert await case.events("PartnerRequestWithdrawn")  # the outcome withdrew the open request


async def test_undeliverable_reminder_is_recorded_on_the_lead(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    notifier.failing = True
    case = Case(temporal_env, store, worker, stale_after_days=3650, max_reminders=1)
    await case.start_brokering(due_date=(now + timedelta(days=3)).date())
    await temporal_env.sleep(timedelta(days=8))
    failures = await case.events("NotificationDeliveryFailed")
    assert {f.data["purpose"] for f in failures} >= {"request", "reminder"}
    assert "mail server unreachable" in failures[0].data["error"]


async def test_a_withdrawal_stops_the_reminders(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    worker: Worker,
    notifier: RecordingNotifier,
    now: datetime,
) -> None:
    case = Case(temporal_env, store, worker, stale_after_days=3650)
    await case.start_brokering(due_date=(now + timedelta(days=3)).date())
    await case.run(
        cmd.WithdrawPartnerRequest(request_id=case.request_id, reason="company chose another site")
    )
    await temporal_env.sleep(timedelta(days=60))
    assert await case.events("PartnerReminderSent") == []
    assert [d.purpose for d in notifier.deliveries] == ["request"]
