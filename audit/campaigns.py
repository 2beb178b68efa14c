"""Campaigns declared by the operator: who reads whom in bulk, under which object, and when.

A proactive campaign reads thousands of persons under one object (its id, such as
``rsa-2025-06``) by design, which is exactly what ``many_persons_one_object`` looks for. The
campaign declares itself when it starts; the rule then reports the reads that match the
declaration (same client, purpose and object, inside its period) as a declared campaign, and
still flags every other bulk read, including a declared object reused by another client, for
another purpose or outside the period.

A declaration is keyed on its object: declaring the same campaign again (a second worker, a
run resumed after a crash) widens its period to cover both and keeps the larger population;
the same object declared for another client or purpose is refused (:class:`InvalidEntry`),
since it would let one campaign's declaration cover another's reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from audit import tables
from audit.database import AuditDatabase
from audit.errors import InvalidEntry

_C = tables.campaigns.c


@dataclass(frozen=True)
class Campaign:
    """One declared campaign; the period is ``[start, end)``."""

    object: str
    client: str
    purpose: str
    start: datetime
    end: datetime
    declared_at: datetime
    population: int | None = None  # the persons it expects to read; None: not known
    # Where its persons come from, in a word (``population``: the sandbox's listing;
    # ``events``: the agencies' event feeds); None: not said.
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.object or not self.client or not self.purpose:
            raise InvalidEntry("a campaign has an object, a client and a purpose")
        for value in (self.start, self.end, self.declared_at):
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidEntry("a campaign's times must be timezone-aware")
        if self.end <= self.start:
            raise InvalidEntry("a campaign ends after it starts")
        if self.population is not None and self.population < 0:
            raise InvalidEntry("a campaign's population is not negative")

    def covers(self, client: str, purpose: str, object: str, time: datetime) -> bool:
        return (client, purpose, object) == (
            self.client,
            self.purpose,
            self.object,
        ) and self.start <= time < self.end


def _campaign(row: Any) -> Campaign:
    return Campaign(
        object=row.object,
        client=row.client,
        purpose=row.purpose,
        start=row.start,
        end=row.end,
        declared_at=row.declared_at,
        population=row.population,
        source=row.source,
    )


async def declare(db: AuditDatabase, campaign: Campaign) -> Campaign:
    """Store ``campaign``, or widen the declaration already stored for its object; the
    declaration as stored."""
    values = {
        "object": campaign.object,
        "client": campaign.client,
        "purpose": campaign.purpose,
        "start": campaign.start,
        "end": campaign.end,
        "population": campaign.population,
        "declared_at": campaign.declared_at,
        "source": campaign.source,
    }
    insert = postgresql.insert if db.backend == "postgresql" else sqlite.insert
    async with db.transaction(write=True) as conn:
        # Workers of one campaign declare it at once: the first insert wins, the others find
        # its row (locked until this transaction ends) and widen it. A SELECT … FOR UPDATE
        # alone locks no row that does not exist yet, so two inserts raced.
        await conn.execute(
            insert(tables.campaigns)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["object"])
        )
        query = select(tables.campaigns).where(_C.object == campaign.object)
        if db.backend == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).one()
        stored = _campaign(row)
        if (stored.client, stored.purpose) != (campaign.client, campaign.purpose):
            raise InvalidEntry("this campaign object is declared for another client or purpose")
        populations = [p for p in (stored.population, campaign.population) if p is not None]
        wider = Campaign(
            object=stored.object,
            client=stored.client,
            purpose=stored.purpose,
            start=min(stored.start, campaign.start),
            end=max(stored.end, campaign.end),
            declared_at=stored.declared_at,
            population=max(populations) if populations else None,
            source=stored.source or campaign.source,
        )
        await conn.execute(
            tables.campaigns.update()
            .where(_C.object == campaign.object)
            .values(
                start=wider.start, end=wider.end, population=wider.population, source=wider.source
            )
        )
        return wider


async def declared(
    db: AuditDatabase, objects: tuple[str, ...] | None = None
) -> tuple[Campaign, ...]:
    """The declared campaigns (those of ``objects`` only, if given), by start."""
    query = select(tables.campaigns).order_by(_C.start, _C.object)
    if objects is not None:
        query = query.where(_C.object.in_(objects))
    async with db.connection() as conn:
        rows = (await conn.execute(query)).all()
    return tuple(_campaign(r) for r in rows)
