"""Rights granted automatically at rest: which right was granted to whom, from what event,
and whether it was undone.

A grant is keyed on the proactive-sector pseudonym, the benefit and the day of the event that
opened it (the table's unique constraint): a rerun after a crash finds the grant already
recorded, and of two workers racing on one person exactly one records it. Undoing keeps the
row and marks it, so that the person's history stays whole: ``reverted`` when the person (or
an operator) undid it, ``closed`` when the person died.

Lifecycle::

    granted → reverted | closed
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
from store.tables import grants

GrantStatus = Literal["granted", "reverted", "closed"]


class GrantNotFound(StoreError, LookupError):
    """No automatic grant has that id."""


@dataclass(frozen=True)
class Grant:
    id: str  # empty: a random UUID4 is assigned when recorded
    person: str  # the proactive-sector pseudonym
    benefit: str
    cause: str  # the event that opened the right, e.g. rsa_granted
    cause_on: date
    agency_grant_id: str  # what the paying agency withdraws it by
    start: date
    end: date
    granted_at: datetime
    campaign: str
    status: GrantStatus = "granted"
    ended_at: datetime | None = None
    audit_id: str | None = None  # the audit entry that recorded the grant
    audit_person: str | None = None  # the person's audit-sector pseudonym


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _grant(row: Any) -> Grant:
    return Grant(
        id=row.id,
        person=row.person,
        benefit=row.benefit,
        cause=row.cause,
        cause_on=row.cause_on,
        agency_grant_id=row.agency_grant_id,
        start=row.start,
        end=row.end,
        granted_at=row.granted_at,
        campaign=row.campaign,
        status=cast(GrantStatus, row.status),
        ended_at=row.ended_at,
        audit_id=row.audit_id,
        audit_person=row.audit_person,
    )


class GrantStore:
    """The ``grants`` table of a migrated :class:`Database`; times are passed in."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, grant: Grant) -> Grant:
        """Store ``grant`` and return it as stored; when one is already recorded for that
        person, benefit and cause day, return that one and insert nothing."""
        if not grant.person or not grant.benefit or not grant.agency_grant_id or not grant.cause:
            raise InvalidRecord("a grant needs a person, a benefit, a cause and the agency's id")
        if grant.end <= grant.start:
            raise InvalidRecord("a grant ends after it starts")
        stored = replace(
            grant,
            id=grant.id or str(uuid.uuid4()),
            status="granted",
            granted_at=_aware(grant.granted_at, "granted_at"),
            ended_at=None,
        )
        dialect = postgresql if self._database.backend == "postgresql" else sqlite
        statement = (
            dialect.insert(grants)
            .values(
                id=stored.id,
                person=stored.person,
                benefit=stored.benefit,
                cause=stored.cause,
                cause_on=stored.cause_on,
                agency_grant_id=stored.agency_grant_id,
                start=stored.start,
                end=stored.end,
                status=stored.status,
                granted_at=stored.granted_at,
                ended_at=None,
                campaign=stored.campaign,
                audit_id=stored.audit_id,
                audit_person=stored.audit_person,
            )
            .on_conflict_do_nothing(index_elements=["person", "benefit", "cause_on"])
        )
        async with self._database.transaction() as conn:
            result = await conn.execute(statement)
        if result.rowcount == 1:
            return stored
        existing = await self.find(stored.person, stored.benefit, stored.cause_on)
        if existing is None:  # pragma: no cover - a conflict leaves a row behind
            raise StoreError("the grant vanished after a conflict")
        return existing

    async def find(self, person: str, benefit: str, cause_on: date) -> Grant | None:
        query = select(grants).where(
            grants.c.person == person,
            grants.c.benefit == benefit,
            grants.c.cause_on == cause_on,
        )
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _grant(row)

    async def get(self, grant_id: str) -> Grant:
        async with self._database.connection() as conn:
            row = (await conn.execute(select(grants).where(grants.c.id == grant_id))).one_or_none()
        if row is None:
            raise GrantNotFound("no such grant")
        return _grant(row)

    async def _end(self, grant_id: str, status: GrantStatus, at: datetime) -> Grant:
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            await conn.execute(
                update(grants)
                .where(grants.c.id == grant_id, grants.c.status == "granted")
                .values(status=status, ended_at=at)
            )
        return await self.get(grant_id)

    async def mark_reverted(self, grant_id: str, at: datetime) -> Grant:
        """Mark the grant undone at ``at``; one already ended keeps its first end."""
        return await self._end(grant_id, "reverted", at)

    async def mark_closed(self, grant_id: str, at: datetime) -> Grant:
        """Mark the grant closed (its person died) at ``at``; one already ended is kept."""
        return await self._end(grant_id, "closed", at)

    async def for_person(self, person: str) -> list[Grant]:
        """The grants made to ``person`` (a proactive pseudonym), latest first."""
        query = (
            select(grants)
            .where(grants.c.person == person)
            .order_by(grants.c.granted_at.desc(), grants.c.id)
        )
        async with self._database.connection() as conn:
            return [_grant(row) for row in await conn.execute(query)]

    async def for_campaign(self, campaign: str) -> list[Grant]:
        """The campaign's grants, oldest first."""
        query = (
            select(grants)
            .where(grants.c.campaign == campaign)
            .order_by(grants.c.granted_at, grants.c.id)
        )
        async with self._database.connection() as conn:
            return [_grant(row) for row in await conn.execute(query)]

    async def listing(self, limit: int = 100) -> list[Grant]:
        """The latest grants, latest first, at most ``limit``."""
        query = select(grants).order_by(grants.c.granted_at.desc(), grants.c.id).limit(limit)
        async with self._database.connection() as conn:
            return [_grant(row) for row in await conn.execute(query)]
