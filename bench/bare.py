"""The baseline of the command benchmark: a bare Temporal update that runs a no-op activity.

No HTTP, no database, no domain rules: what an update round trip through the same dev server costs.

Updates:  `execute` (str -> str): runs the `nothing` activity and answers.
"""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_nothing")
async def nothing(payload: str) -> str:
    return payload


@workflow.defn(name="BenchBareWorkflow")
class BareWorkflow:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done or workflow.info().is_continue_as_new_suggested())

    @workflow.update
    async def execute(self, payload: str) -> str:
        return await workflow.execute_activity(nothing, payload, start_to_close_timeout=timedelta(seconds=30))

    @workflow.signal
    def finish(self) -> None:
        self._done = True
