"""Consents at rest: granted and revoked by citizens, read on every request.

A person only ever reaches their own consents: every statement is keyed on the person as
well as the id, so a guessed or leaked id of someone else's consent finds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select, update

from policies.model import Consent
from store.database import Database
from store.errors import ConsentNotFound, InvalidRecord
from store.tables import consents

# Newest first; the id breaks ties between consents granted in the same microsecond.
_NEWEST_FIRST = (consents.c.granted_at.desc(), consents.c.id.desc())


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _checked(consent: Consent) -> Consent:
    """The consent as it will be stored, or :class:`InvalidRecord` naming what is wrong."""
    if not consent.person:
        raise InvalidRecord("a consent needs a person")
    if (consent.client_id is None) == (consent.purpose is None):
        raise InvalidRecord("a consent names exactly one of a client and a purpose")
    if not consent.categories or not all(isinstance(c, str) and c for c in consent.categories):
        raise InvalidRecord("a consent covers at least one category, each a non-empty id")
    if consent.valid_until < consent.valid_from:
        raise InvalidRecord("a consent ends on or after the day it starts")
    if consent.revoked_at is not None:
        raise InvalidRecord("a consent is granted unrevoked; revoke it afterwards")
    return replace(
        consent,
        id=consent.id or str(uuid.uuid4()),
        categories=frozenset(consent.categories),
        granted_at=_aware(consent.granted_at, "granted_at"),
    )


def _consent(row: Any) -> Consent:
    return Consent(
        id=row.id,
        person=row.person,
        client_id=row.client_id,
        purpose=row.purpose,
        categories=row.categories,
        granted_at=row.granted_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked_at=row.revoked_at,
    )


class ConsentStore:
    """Consents in a migrated :class:`Database`; times are passed in, never read here."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def grant(self, consent: Consent) -> Consent:
        """Store a new consent and return it as stored.

        An empty ``id`` gets a random UUID4; a given one is kept (a duplicate is an
        :class:`InvalidRecord`). ``granted_at`` comes back in UTC.
        """
        stored = _checked(consent)
        async with self._database.transaction() as conn:
            await conn.execute(
                consents.insert().values(
                    id=stored.id,
                    person=stored.person,
                    client_id=stored.client_id,
                    purpose=stored.purpose,
                    categories=stored.categories,
                    granted_at=stored.granted_at,
                    valid_from=stored.valid_from,
                    valid_until=stored.valid_until,
                )
            )
        return stored

    async def revoke(self, person: str, consent_id: str, at: datetime) -> Consent:
        """Revoke ``person``'s consent ``consent_id`` at ``at`` and return it.

        Revoking again keeps the first revocation time. :class:`ConsentNotFound` when that
        person has no such consent, whoever else may have one with that id.
        """
        at = _aware(at, "at")
        mine = (consents.c.id == consent_id) & (consents.c.person == person)
        async with self._database.transaction() as conn:
            # The update first: it takes the write lock before the read, and its
            # "not yet revoked" condition keeps the first time under concurrent revocations.
            await conn.execute(
                update(consents).where(mine, consents.c.revoked_at.is_(None)).values(revoked_at=at)
            )
            row = (await conn.execute(select(consents).where(mine))).one_or_none()
        if row is None:
            raise ConsentNotFound("no such consent for this person")
        return _consent(row)

    async def for_person(self, person: str) -> list[Consent]:
        """Every consent of ``person``, revoked and lapsed included, newest first."""
        return await self._fetch(select(consents).where(consents.c.person == person))

    async def active(self, person: str, on: date) -> list[Consent]:
        """``person``'s consents in force on ``on``: unrevoked, ``valid_from`` ≤ on ≤
        ``valid_until``, newest first. One query on the person index: it runs per request."""
        return await self._fetch(
            select(consents).where(
                consents.c.person == person,
                consents.c.revoked_at.is_(None),
                consents.c.valid_from <= on,
                consents.c.valid_until >= on,
            )
        )

    async def _fetch(self, query: Select[Any]) -> list[Consent]:
        async with self._database.connection() as conn:
            result = await conn.execute(query.order_by(*_NEWEST_FIRST))
            return [_consent(row) for row in result]
