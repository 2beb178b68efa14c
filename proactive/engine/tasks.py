"""The task: ``examine_batch(campaign, number)`` — one batch of a planned campaign, run to the
end and marked done with its counts, by whichever worker (or process) was given it. The plan
says what the batch is: ``detection`` (``campaign run``: :meth:`CampaignRunner.examine`) or
``renewal`` (``campaign renew``: :meth:`RenewalRunner.examine`, the candidates' end dates,
births and moves and France Travail ids carried in the sealed batch).

A batch already done is skipped, so a message delivered twice (a worker killed after the work
but before its acknowledgement) does nothing the second time. A batch run again after a
partial run records nobody twice: the offers', the outbox's and the renewals' keys make every
write idempotent, and the offers found made are counted as resumed.

A batch fails — its run is counted in ``attempts`` and the error's kind kept, then the
engine retries it later — when it raises (the database unreachable…), or when most of its
persons could not be read (``FAILING_SHARE``): an agency down is worth waiting for rather
than recording a batch of "could not read" as done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proactive.campaign import CampaignRunner
from proactive.engine.subjects import candidate_from_json, subject_from_json
from proactive.renewal import RenewalRunner
from store.batches import Batch, BatchStore
from store.sealing import Sealer

Clock = Callable[[], datetime]
# A runner's progress callback, called with its ``Summary`` (a detection's or a renewal's) as
# the batch advances; the caller knows which kind of batch it gave.
RunnerProgress = Callable[[Any], None]
FAILING_SHARE = 0.5  # more than this share of a batch's persons unread: the batch failed


class BatchFailed(Exception):
    """A batch's run that must be retried; ``kind`` says why, in a word, never whom."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Workshop:
    """What a task needs, opened once per process: the services and the plan."""

    services: Any  # runtime.Services, opened by the caller (this package does not build it)
    batches: BatchStore
    clock: Clock

    @classmethod
    def of(cls, services: Any, clock: Clock) -> Workshop:
        return cls(services, BatchStore(services.database, Sealer(services.seal_key)), clock)


def error_kind(error: BaseException) -> str:
    return error.kind if isinstance(error, BatchFailed) else type(error).__name__


async def _detect(
    workshop: Workshop, batch: Batch, progress: RunnerProgress | None
) -> dict[str, int]:
    services, params = workshop.services, batch.parameters
    runner = CampaignRunner(
        services.exchange,
        services.offers,
        services.outbox,
        services.pseudonyms,
        workshop.clock,
        recipient=params["recipient"],
        cooldown_days=int(params.get("cooldown_days", 180)),
    )
    subjects = [subject_from_json(p) for p in batch.persons]
    summary = await runner.examine(
        subjects, params["benefit"], params["month"], batch.campaign, progress
    )
    return dict(summary.rows())


async def _renew(
    workshop: Workshop, batch: Batch, progress: RunnerProgress | None
) -> dict[str, int]:
    services, params = workshop.services, batch.parameters
    runner = RenewalRunner(
        services.exchange,
        services.connectors.cnam,
        services.renewals,
        services.offers,
        services.outbox,
        services.pseudonyms,
        services.auditor,
        services.catalogue,
        workshop.clock,
        recipient=params["recipient"],
        within_days=int(params.get("within_days", 60)),
    )
    candidates = [candidate_from_json(p) for p in batch.persons]
    summary = await runner.examine(candidates, params["month"], batch.campaign, progress)
    return dict(summary.rows())


def failing(counts: dict[str, Any]) -> bool:
    # Over the persons the batch had to read: those left unread for their age do not dilute
    # its errors.
    read = int(counts.get("examined", 0)) - int(counts.get("skipped_age", 0))
    return read > 0 and int(counts.get("errors", 0)) > FAILING_SHARE * read


async def examine_batch(
    workshop: Workshop,
    campaign: str,
    number: int,
    progress: RunnerProgress | None = None,
) -> dict[str, int] | None:
    """Run batch ``number`` of ``campaign`` and mark it done; its counts, or None when it was
    done already. Raises when the run failed, after counting the failure in the plan."""
    batch = await workshop.batches.get(campaign, number)
    if batch.state == "done":
        return None
    try:
        if batch.kind == "renewal":
            counts = await _renew(workshop, batch, progress)
        else:
            counts = await _detect(workshop, batch, progress)
        if failing(counts):
            raise BatchFailed("most_reads_failed")
    except Exception as error:
        await workshop.batches.failed(campaign, number, error_kind(error), workshop.clock())
        raise
    await workshop.batches.finish(campaign, number, counts, workshop.clock())
    return counts
