"""`groeiruimte workflows restore`: the Temporal cluster was rebuilt without its database; every open
lead's workflow starts again from the lead's state in the event log, and its reminders carry on.
Two time-skipping servers (the lost cluster and the new one), real workers, one SQLite log."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from events import commands as cmd
from events.reference import OutcomeCode
from services.binaries import find_binary
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.temporal import data_converter
from services.workflow_restore import WorkflowRestorer
from tests.fakes import RecordingNotifier
from tests.integration.test_brokering_workflow import Case
from workflows.payloads import workflow_id_for
from workflows.worker import build_worker


@pytest.fixture(scope="module")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: skipping weeks must not fire other tests' timers."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield env
    await env.shutdown()


async def test_on_a_new_cluster_the_open_leads_restart_from_the_log_and_their_reminders_carry_on(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker, notifier: RecordingNotifier
) -> None:
    now: datetime = await temporal_env.get_current_time()
    case = Case(temporal_env, store, worker, stale_after_days=3650)
    await case.start_brokering(due_date=(now + timedelta(days=7)).date())
    closed = Case(temporal_env, store, worker)
    await closed.start_brokering(due_date=(now + timedelta(days=7)).date())
    await closed.run(cmd.RecordOutcome(code=OutcomeCode.WITHDRAWN))
    await closed.run(cmd.CloseLead())

    # The Temporal cluster is rebuilt without its database: a new server that knows no workflow.
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    ) as rebuilt:
        queue = f"restored-{uuid.uuid4()}"
        restorer = WorkflowRestorer(rebuilt.client, store, Settings(temporal_task_queue=queue))
        planned = await restorer.restore(dry_run=True)
        async with build_worker(rebuilt.client, queue, store, notifier):
            restored = await restorer.restore()
            again = await restorer.restore()
            await rebuilt.sleep(timedelta(days=30))
            handle = rebuilt.client.get_workflow_handle(workflow_id_for(case.lead_id))
            await handle.terminate("test finished")

    assert planned.restarted == restored.restarted == [case.lead_id]
    assert restored.closed == [closed.lead_id]
    assert again.restarted == [] and again.running == [case.lead_id]
    reminders = await case.events("PartnerReminderSent")
    assert [e.data["reminder_number"] for e in reminders] == [1, 2, 3]
    assert len(await case.events("PartnerRequestSent")) == 1  # nothing recorded twice
