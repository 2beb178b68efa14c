"""A campaign split into batches of persons, stored once in the plan (``store.batches``).

Planning the same campaign again (a coordinator restarted, a second one started by mistake)
keeps the first plan: the batches and their persons do not change under running workers. A
plan made for another kind of run, another benefit or another month is refused: a campaign
id names one run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from store.batches import BatchKind, BatchStore

T = TypeVar("T")
# What must agree between a campaign's plan and a new request to run it.
SAME_RUN = ("benefit", "month")


def digest_of(keys: Iterable[str]) -> str:
    """Twelve hex digits naming a set of persons (keys built from their pseudonyms): the same
    persons, in any order, give the same digest. Runs fed by events take it into their default
    id, so that events replayed after a crash resume their plan while later events make a new
    one instead of being acknowledged under a plan already finished."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:12]


class PlanMismatch(ValueError):
    """The campaign id is already planned for another run (kind, benefit or month)."""


@dataclass(frozen=True)
class Plan:
    campaign: str
    created: bool  # False: the campaign was already planned, its plan is resumed
    batches: int
    persons: int


def split(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive batches of ``size`` (the last one may be smaller)."""
    if size < 1:
        raise ValueError("a batch holds one person at least")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


async def plan(
    store: BatchStore,
    campaign: str,
    kind: BatchKind,
    parameters: Mapping[str, Any],
    persons: Sequence[Mapping[str, Any]],
    size: int,
    now: datetime,
) -> Plan:
    """Plan ``campaign`` (its ``persons`` as JSON, in batches of ``size``) unless it is
    planned already; the plan that stands."""
    created = await store.plan(campaign, kind, parameters, split(persons, size), now)
    progress = await store.progress(campaign)
    if progress.kind is not None and not created:
        mismatch = progress.kind != kind or any(
            progress.parameters.get(k) != parameters.get(k) for k in SAME_RUN
        )
        if mismatch:
            raise PlanMismatch(
                f"campaign {campaign} was planned for another run "
                f"({progress.kind} {progress.parameters.get('benefit')} "
                f"{progress.parameters.get('month')}): give another --campaign"
            )
    return Plan(campaign, created, progress.batches, progress.persons)
