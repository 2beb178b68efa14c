"""Automatic renewals at rest: which right was renewed for whom, until when, and its revert.

A renewal is keyed on the proactive-sector pseudonym, the benefit and the end date it renewed
(the table's unique constraint): a rerun after a crash finds the renewal already recorded, and
of two workers racing on one person exactly one records it. A revert keeps the row and marks
it, so that the person's history stays whole.

Lifecycle::

    renewed → reverted
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.tables import renewals

RenewalStatus = Literal["renewed", "reverted"]


class RenewalNotFound(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class Renewal:
    id: str  # empty: a random UUID4 is assigned when recorded
    person: str  # the proactive-sector pseudonym
    benefit: str
    agency_renewal_id: str  # what the paying agency reverts it by
    previous_end: date
    new_end: date
    renewed_at: datetime
    campaign: str
    status: RenewalStatus = "renewed"
    reverted_at: datetime | None = None
    audit_id: str | None = None  # the audit entry that recorded the renewal
    audit_person: str | None = None  # the person's audit-sector pseudonym


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _renewal(row: Any) -> Renewal:
    return Renewal(
        id=row.id,
        person=row.person,
        benefit=row.benefit,
        agency_renewal_id=row.agency_renewal_id,
        previous_end=row.previous_end,
        new_end=row.new_end,
        renewed_at=row.renewed_at,
        campaign=row.campaign,
        status=cast(RenewalStatus, row.status),
        reverted_at=row.reverted_at,
        audit_id=row.audit_id,
        audit_person=row.audit_person,
    )


class RenewalStore:
    """The ``renewals`` table of a migrated :class:`Database`; times are passed in."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, renewal: Renewal) -> Renewal:
        """Store ``renewal`` and return it as stored; when one is already recorded for that
        person, benefit and previous end, return that one and insert nothing."""
        if not renewal.person or not renewal.benefit or not renewal.agency_renewal_id:
            raise InvalidRecord("a renewal needs a person, a benefit and the agency's id")
        if renewal.new_end <= renewal.previous_end:
            raise InvalidRecord("a renewal ends after the right it renews")
        stored = replace(
            renewal,
            id=renewal.id or str(uuid.uuid4()),
            status="renewed",
            renewed_at=_aware(renewal.renewed_at, "renewed_at"),
            reverted_at=None,
        )
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        statement = (
            dialect.insert(renewals)
            .values(
                id=stored.id,
                person=stored.person,
                benefit=stored.benefit,
                agency_renewal_id=stored.agency_renewal_id,
                previous_end=stored.previous_end,
                new_end=stored.new_end,
                status=stored.status,
                renewed_at=stored.renewed_at,
                reverted_at=None,
                campaign=stored.campaign,
                audit_id=stored.audit_id,
                audit_person=stored.audit_person,
            )
            .on_conflict_do_nothing(index_elements=["person", "benefit", "previous_end"])
        )
        async with self._database.transaction() as conn:
            result = await conn.execute(statement)
        if result.rowcount == 1:
            return stored
        existing = await self.find(stored.person, stored.benefit, stored.previous_end)
        if existing is None:  # pragma: no cover - a conflict leaves a row behind
            raise StoreError("the renewal vanished after a conflict")
        return existing

    async def find(self, person: str, benefit: str, previous_end: date) -> Renewal | None:
        query = select(renewals).where(
            renewals.c.person == person,
            renewals.c.benefit == benefit,
            renewals.c.previous_end == previous_end,
        )
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _renewal(row)

    async def get(self, renewal_id: str) -> Renewal:
        async with self._database.connection() as conn:
            query = select(renewals).where(renewals.c.id == renewal_id)
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise RenewalNotFound("no such renewal")
        return _renewal(row)

    async def mark_reverted(self, renewal_id: str, at: datetime) -> Renewal:
        """Mark the renewal reverted at ``at``; one already reverted keeps its first time."""
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            await conn.execute(
                update(renewals)
                .where(renewals.c.id == renewal_id, renewals.c.status == "renewed")
                .values(status="reverted", reverted_at=at)
            )
        return await self.get(renewal_id)

    async def for_person(self, person: str) -> list[Renewal]:
        """The renewals made for ``person`` (a proactive pseudonym), latest first."""
        query = (
            select(renewals)
            .where(renewals.c.person == person)
            .order_by(renewals.c.renewed_at.desc(), renewals.c.id)
        )
        async with self._database.connection() as conn:
            return [_renewal(row) for row in await conn.execute(query)]

    async def for_campaign(self, campaign: str) -> list[Renewal]:
        """The campaign's renewals, oldest first."""
        query = (
            select(renewals)
            .where(renewals.c.campaign == campaign)
            .order_by(renewals.c.renewed_at, renewals.c.id)
        )
        async with self._database.connection() as conn:
            return [_renewal(row) for row in await conn.execute(query)]
