"""The worker: runs LeadWorkflow and its activities on the leads task queue."""

from temporalio.client import Client
from temporalio.worker import Worker

from events.store import EventStore
from workflows.activities import LeadActivities
from workflows.lead import LeadWorkflow


def build_worker(client: Client, task_queue: str, store: EventStore) -> Worker:
    """A worker for the leads task queue, its activities bound to the given store."""
    activities = LeadActivities(store)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[LeadWorkflow],
        activities=[activities.append_events],
    )
