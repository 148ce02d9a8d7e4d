"""The worker: runs LeadWorkflow and its activities on the leads task queue."""

from collections.abc import Sequence

from temporalio.client import Client
from temporalio.worker import Plugin, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from events.store import EventStore
from workflows.activities import LeadActivities, Notifier
from workflows.lead import LeadWorkflow

# Deterministic libraries the domain uses (the Dutch holiday calendar) load outside the sandbox:
# they read the clock only when imported, never while computing a date.
PASSTHROUGH_MODULES = ("holidays", "dateutil", "six")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and replayer must use for LeadWorkflow."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    client: Client, task_queue: str, store: EventStore, notifier: Notifier, plugins: Sequence[Plugin] = ()
) -> Worker:
    """A worker for the leads task queue, its activities bound to the given store and notifier.

    The worker process adds the reports plugin (ReportWorkflow and its June/December schedule).
    """
    activities = LeadActivities(store, notifier)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[LeadWorkflow],
        activities=[activities.append_events, activities.deliver_notification],
        workflow_runner=workflow_runner(),
        plugins=list(plugins),
    )
