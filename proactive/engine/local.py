"""The in-process executor, for an installation without a broker: the same task as the
workers', run here, batch after batch, with the same retries (waited here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from proactive.engine.retry import MAX_RETRIES, backoff_ms
from proactive.engine.tasks import RunnerProgress, Workshop, error_kind, examine_batch

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


async def run_locally(
    workshop: Workshop,
    campaign: str,
    numbers: Sequence[int],
    progress: Callable[[int], RunnerProgress | None] | None = None,
    *,
    retries: int = MAX_RETRIES,
    sleep: Sleep = asyncio.sleep,
) -> list[int]:
    """Run the batches ``numbers`` of ``campaign`` one after another; the batches left
    pending after their retries. ``progress(number)`` gives the runner's progress callback
    for a batch (called with a detection's or a renewal's ``Summary``, as the plan's kind)."""
    left: list[int] = []
    for number in numbers:
        for attempt in range(retries + 1):
            try:
                await examine_batch(
                    workshop, campaign, number, progress(number) if progress else None
                )
                break
            except Exception as error:  # counted in the plan, retried below
                kind = error_kind(error)
                if attempt == retries:
                    log.warning(
                        "batch %d left pending after %d tries: %s", number, attempt + 1, kind
                    )
                    left.append(number)
                else:
                    log.warning("batch %d failed (%s), tried again", number, kind)
                    await sleep(backoff_ms(attempt) / 1000)
    return left
