"""A campaign's progress, read from its plan whichever workers run it, and the coordinator's
wait for its end: every batch done, or the ones left given up after their retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

from proactive.engine.retry import given_up
from store.batches import BatchStore, Progress

Sleep = Callable[[float], Awaitable[None]]
POLL = 1.0  # seconds between two reads of the plan


def settled(progress: Progress) -> bool:
    """Every batch done, or every batch not done given up after its retries."""
    stuck = sum(1 for _, attempts, _ in progress.failing if given_up(attempts))
    return progress.batches > 0 and progress.batches_done + stuck == progress.batches


def left_pending(progress: Progress) -> list[int]:
    """The batches given up after their retries: pending, to be run again later."""
    return [number for number, attempts, _ in progress.failing if given_up(attempts)]


def summed(progress: Progress, summary_type: type[Any]) -> Any:
    """The campaign's summary (a runner's ``Summary`` dataclass) summed over its done
    batches; counts the summary does not know are left out."""
    known = {f.name for f in fields(summary_type)}
    return summary_type(**{k: v for k, v in progress.summary.items() if k in known})


async def wait(
    store: BatchStore,
    campaign: str,
    show: Callable[[Progress], None],
    *,
    poll: float = POLL,
    sleep: Sleep = asyncio.sleep,
) -> Progress:
    """Read the plan every ``poll`` seconds, showing it, until the campaign is settled."""
    while True:
        progress = await store.progress(campaign)
        show(progress)
        if settled(progress):
            return progress
        await sleep(poll)
