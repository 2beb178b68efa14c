"""A campaign's plan at rest: its persons split into numbered batches, each pending or done.

Any worker on any machine runs a batch knowing only its campaign and number (what a broker's
message carries); the persons are read back here, sealed at rest and bound to their row. A
batch is marked done with its counts once its offers and messages are recorded, so progress
and the campaign's totals are read from this table whichever worker ran what.

Planning is idempotent: a campaign already planned keeps its batches (two coordinators racing
on one campaign end up with one plan). ``attempts`` counts the runs of a batch that failed;
after a run dies with its worker the batch is simply still pending.

Lifecycle::

    pending → done
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.sealing import SealBroken, Sealer
from store.tables import campaign_batches

BatchKind = Literal["detection", "renewal"]
BatchState = Literal["pending", "done"]
KINDS: tuple[BatchKind, ...] = ("detection", "renewal")


class BatchNotFound(StoreError, LookupError):
    """No such batch in that campaign's plan."""


class BatchUnreadable(StoreError):
    """The batch's persons do not open: sealed under another key, or altered."""


@dataclass(frozen=True)
class Batch:
    campaign: str
    number: int
    kind: BatchKind
    parameters: dict[str, Any]
    persons: list[dict[str, Any]]  # opened: each person as the planner wrote them
    state: BatchState
    attempts: int
    summary: dict[str, int] | None
    last_error: str | None


@dataclass(frozen=True)
class Progress:
    """A campaign's plan as it stands: counts only."""

    campaign: str
    kind: BatchKind | None  # None: no such campaign planned
    parameters: dict[str, Any]
    batches: int
    batches_done: int
    persons: int
    persons_done: int
    summary: dict[str, int]  # the done batches' counts, summed
    # Pending batches whose last run failed, with their failed runs: (number, attempts, error).
    failing: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.batches > 0 and self.batches_done == self.batches


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord("times must be timezone-aware")
    return value.astimezone(UTC)


def _binding(campaign: str, number: int) -> str:
    return f"campaign_batches:{campaign}:{number}"


class BatchStore:
    """The ``campaign_batches`` table of a migrated :class:`Database`; times are passed in."""

    def __init__(self, database: Database, sealer: Sealer) -> None:
        self._database = database
        self._sealer = sealer

    async def plan(
        self,
        campaign: str,
        kind: BatchKind,
        parameters: Mapping[str, Any],
        batches: Sequence[Sequence[Mapping[str, Any]]],
        now: datetime,
    ) -> bool:
        """Store the campaign's batches, numbered from 0; False (nothing written) when the
        campaign already has a plan."""
        if not campaign:
            raise InvalidRecord("a campaign needs an id")
        if kind not in KINDS:
            raise InvalidRecord(f"unknown batch kind {kind!r}")
        if any(not batch for batch in batches):
            raise InvalidRecord("a batch holds one person at least")
        now = _aware(now)
        rows = [
            {
                "campaign": campaign,
                "number": number,
                "kind": kind,
                "parameters": dict(parameters),
                "persons": len(batch),
                "sealed": self._sealer.seal(
                    {"persons": [dict(p) for p in batch]}, _binding(campaign, number)
                ),
                "state": "pending",
                "attempts": 0,
                "summary": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                "finished_at": None,
            }
            for number, batch in enumerate(batches)
        ]
        if not rows or await self.planned(campaign):
            return False
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        statement = (
            dialect.insert(campaign_batches)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["campaign", "number"])
        )
        async with self._database.transaction() as conn:
            result = await conn.execute(statement)
        # Another coordinator planned the same campaign at the same moment: its plan stands.
        return bool(result.rowcount == len(rows))

    async def planned(self, campaign: str) -> bool:
        query = select(func.count()).where(campaign_batches.c.campaign == campaign)
        async with self._database.connection() as conn:
            return bool((await conn.execute(query)).scalar())

    async def get(self, campaign: str, number: int) -> Batch:
        query = select(campaign_batches).where(
            campaign_batches.c.campaign == campaign, campaign_batches.c.number == number
        )
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise BatchNotFound("no such batch")
        try:
            opened = self._sealer.open(row.sealed, _binding(campaign, number))
        except SealBroken:
            raise BatchUnreadable("the batch's persons do not open") from None
        return Batch(
            campaign=row.campaign,
            number=row.number,
            kind=cast(BatchKind, row.kind),
            parameters=dict(row.parameters),
            persons=list(opened["persons"]),
            state=cast(BatchState, row.state),
            attempts=row.attempts,
            summary=row.summary,
            last_error=row.last_error,
        )

    async def pending(self, campaign: str) -> list[int]:
        """The numbers of the campaign's batches not done yet, in order."""
        query = (
            select(campaign_batches.c.number)
            .where(campaign_batches.c.campaign == campaign, campaign_batches.c.state == "pending")
            .order_by(campaign_batches.c.number)
        )
        async with self._database.connection() as conn:
            return [int(n) for n in (await conn.execute(query)).scalars()]

    async def finish(
        self, campaign: str, number: int, summary: Mapping[str, int], now: datetime
    ) -> bool:
        """Mark the batch done with its counts; False when a run had already done it (its
        counts stand)."""
        now = _aware(now)
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(campaign_batches)
                .where(
                    campaign_batches.c.campaign == campaign,
                    campaign_batches.c.number == number,
                    campaign_batches.c.state == "pending",
                )
                .values(
                    state="done",
                    summary=dict(summary),
                    last_error=None,
                    updated_at=now,
                    finished_at=now,
                )
            )
        return bool(result.rowcount == 1)

    async def failed(self, campaign: str, number: int, error_kind: str, now: datetime) -> int:
        """Count a failed run of the batch (``error_kind``: the error's kind, never its
        message, which may describe a person); the failed runs so far."""
        now = _aware(now)
        async with self._database.transaction() as conn:
            await conn.execute(
                update(campaign_batches)
                .where(
                    campaign_batches.c.campaign == campaign,
                    campaign_batches.c.number == number,
                    campaign_batches.c.state == "pending",
                )
                .values(
                    attempts=campaign_batches.c.attempts + 1,
                    last_error=error_kind,
                    updated_at=now,
                )
            )
            query = select(campaign_batches.c.attempts).where(
                campaign_batches.c.campaign == campaign, campaign_batches.c.number == number
            )
            return int((await conn.execute(query)).scalar() or 0)

    async def progress(self, campaign: str) -> Progress:
        columns = (
            campaign_batches.c.number,
            campaign_batches.c.kind,
            campaign_batches.c.parameters,
            campaign_batches.c.persons,
            campaign_batches.c.state,
            campaign_batches.c.attempts,
            campaign_batches.c.summary,
            campaign_batches.c.last_error,
        )
        query = (
            select(*columns)
            .where(campaign_batches.c.campaign == campaign)
            .order_by(campaign_batches.c.number)
        )
        async with self._database.connection() as conn:
            rows = (await conn.execute(query)).all()
        totals: dict[str, int] = {}
        failing: list[tuple[int, int, str]] = []
        done = persons_done = 0
        for row in rows:
            if row.state == "done":
                done += 1
                persons_done += row.persons
                for name, value in (row.summary or {}).items():
                    totals[name] = totals.get(name, 0) + int(value)
            elif row.last_error is not None:
                failing.append((row.number, row.attempts, row.last_error))
        return Progress(
            campaign=campaign,
            kind=cast(BatchKind, rows[0].kind) if rows else None,
            parameters=dict(rows[0].parameters) if rows else {},
            batches=len(rows),
            batches_done=done,
            persons=sum(row.persons for row in rows),
            persons_done=persons_done,
            summary=totals,
            failing=failing,
        )
