"""A planned campaign's batches run by the coordinating command, whatever their kind
(``campaign run``'s detection, ``campaign renew``'s renewals): here, batch after batch, when
no broker is configured; else enqueued for ``unefois worker`` and, unless told not to, waited
for. Either way with a progress bar over the campaign's persons, and the plan's progress at
the end (its counts summed over the done batches, whichever process ran them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from cli.progress import Bar
from proactive.engine.broker import batch_actor, enqueue, open_broker
from proactive.engine.local import run_locally
from proactive.engine.tasks import RunnerProgress, Workshop
from proactive.engine.waiting import wait
from runtime.settings import Settings
from store.batches import Progress

# Given the bar and the campaign's persons taken before a batch: the runner's progress
# callback for that batch (run here).
InProcess = Callable[[Bar, int], RunnerProgress]
# Given the bar: what the coordinator shows of the plan while workers run it.
PlanView = Callable[[Bar], Callable[[Progress], None]]


async def run_batches(
    settings: Settings,
    workshop: Workshop,
    campaign_id: str,
    persons: int,
    stderr: TextIO,
    *,
    title: str,
    in_process: InProcess,
    plan_view: PlanView,
    no_wait: bool = False,
) -> Progress:
    """The plan's pending batches run here (no broker), or enqueued for the workers and, unless
    ``no_wait``, waited for; the plan's progress at the end. ``title`` names the bar."""
    store = workshop.batches
    pending = await store.pending(campaign_id)
    if settings.broker_url:
        broker = open_broker(settings.broker_url, settings.broker_namespace)
        try:
            enqueue(batch_actor(broker, settings.broker_namespace), campaign_id, pending)
        finally:
            broker.close()
        print(f"{len(pending)} batches enqueued for the workers", file=stderr)
        if no_wait:
            return await store.progress(campaign_id)
        with Bar(f"{title} (workers)", persons, stderr) as bar:
            return await wait(store, campaign_id, plan_view(bar))
    with Bar(title, persons, stderr) as bar:
        before = (await store.progress(campaign_id)).persons_done
        sizes = {n: len((await store.get(campaign_id, n)).persons) for n in pending}

        def counted(number: int) -> RunnerProgress:
            # The batches taken before this one count whole: done, or given up.
            return in_process(bar, before + sum(sizes[k] for k in pending if k < number))

        await run_locally(workshop, campaign_id, pending, counted)
    return await store.progress(campaign_id)
