"""The dossiers the gateway created on démarches-simplifiées, by DS's dossier number.

A row ties a dossier to the person it was prefilled for (a pseudonym, and their identity
sealed by the caller: the store never reads it) and to the prefill's audit entry. Its status
follows the dossier's submission::

    created ──claim──→ submitted ──finish──→ processed
       ↑                   ├─────finish────→ failed ──claim──→ submitted …
                           └─────finish────→ rejected ──claim──→ submitted …

``failed``: something that may pass failed (an agency, DS, the store): tried again by the
next delivery or pass. ``rejected``: the deposit held what the gateway cannot take (a value
it refuses, a field left unsettled), the reason in ``outcome``: tried again only when DS
tells of a change of the dossier, not by the passes over pending dossiers.

:meth:`DossierStore.claim` is a compare-and-set: of two deliveries of the same webhook (or a
webhook and a poll), exactly one moves the row to ``submitted`` and handles it. A row is kept
until its ``expires_at``, then :meth:`DossierStore.purge` deletes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from sqlalchemy import delete, select, update

from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.offers import InvalidTransition
from store.tables import ds_dossiers

DossierStatus = Literal["created", "submitted", "processed", "failed", "rejected"]
STATUSES: tuple[DossierStatus, ...] = get_args(DossierStatus)
CLAIMABLE = ("created", "failed", "rejected")
FINISHED: tuple[DossierStatus, ...] = ("processed", "failed", "rejected")
# Deposited on DS: the person has sent it, whatever the gateway made of it since.
DEPOSITED: tuple[DossierStatus, ...] = ("submitted", "processed", "failed", "rejected")


class DossierNotFound(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class DossierLink:
    number: int  # DS's dossier number
    procedure: int
    form: str
    offer_id: str | None  # the proactive offer it answers, if any
    person: str  # a pseudonym, never a name
    sealed: str  # the person's identity, sealed by the caller
    access_id: str  # the audit entry of the prefill
    status: DossierStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    # What processing the submission gave (the submission's id, the fields changed, the
    # benefit evaluated again): shown to the person in their space.
    outcome: Mapping[str, Any] | None = None
    # The form fields the dossier was created with a value for (ids, never values): what the
    # person saw prefilled, against which the deposit is read. None for a row from before.
    sent: tuple[str, ...] | None = None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _link(row: Any) -> DossierLink:
    return DossierLink(
        number=int(row.number),
        procedure=int(row.procedure),
        form=row.form,
        offer_id=row.offer_id,
        person=row.person,
        sealed=row.sealed,
        access_id=row.access_id,
        status=cast(DossierStatus, row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        outcome=row.outcome,
        sent=None if row.sent is None else tuple(str(f) for f in row.sent),
    )


class DossierStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, link: DossierLink) -> DossierLink:
        """Record a dossier just created on DS; :class:`InvalidRecord` for a number known."""
        for number in (link.number, link.procedure):
            if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
                raise InvalidRecord("dossier and procedure numbers are positive integers")
        if not link.form or not link.person or not link.sealed or not link.access_id:
            raise InvalidRecord("a dossier link needs a form, a person, a seal and an access")
        if link.status not in STATUSES:
            raise InvalidRecord(f"a dossier's status is one of {', '.join(STATUSES)}")
        stored = replace(
            link,
            created_at=_aware(link.created_at, "created_at"),
            updated_at=_aware(link.updated_at, "updated_at"),
            expires_at=_aware(link.expires_at, "expires_at"),
        )
        values = {name: getattr(stored, name) for name in DossierLink.__dataclass_fields__}
        values["sent"] = None if stored.sent is None else list(stored.sent)
        async with self._database.transaction() as conn:
            known = select(ds_dossiers.c.number).where(ds_dossiers.c.number == link.number)
            if (await conn.execute(known)).first() is not None:
                raise InvalidRecord("a dossier with this number is already recorded")
            # A concurrent insert of the same number fails on the key: InvalidRecord too.
            await conn.execute(ds_dossiers.insert().values(values))
        return stored

    async def get(self, number: int) -> DossierLink:
        query = select(ds_dossiers).where(ds_dossiers.c.number == number)
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise DossierNotFound("no such dossier")
        return _link(row)

    async def claim(self, number: int, at: datetime) -> DossierLink | None:
        """Move the dossier from created, failed or rejected to submitted and return it; None
        when it is already submitted or processed (another delivery has it).
        :class:`DossierNotFound` for a number the gateway did not create."""
        at = _aware(at, "at")
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(ds_dossiers)
                .where(ds_dossiers.c.number == number, ds_dossiers.c.status.in_(CLAIMABLE))
                .values(status="submitted", updated_at=at)
            )
            row = (
                await conn.execute(select(ds_dossiers).where(ds_dossiers.c.number == number))
            ).one_or_none()
        if row is None:
            raise DossierNotFound("no such dossier")
        return _link(row) if result.rowcount == 1 else None

    async def finish(
        self,
        number: int,
        status: DossierStatus,
        at: datetime,
        *,
        outcome: Mapping[str, Any] | None = None,
    ) -> DossierLink:
        """The claimed (submitted) dossier was processed, failed or rejected, or goes back to
        created (DS says the person has not submitted it yet); :class:`InvalidTransition` when it is
        not submitted."""
        if status not in (*FINISHED, "created"):
            raise InvalidTransition(
                "a dossier finishes processed, failed or rejected, or goes back to created, "
                f"not {status!r}"
            )
        at = _aware(at, "at")
        values: dict[str, Any] = {"status": status, "updated_at": at}
        if outcome is not None:
            values["outcome"] = dict(outcome)
        async with self._database.transaction() as conn:
            result = await conn.execute(
                update(ds_dossiers)
                .where(ds_dossiers.c.number == number, ds_dossiers.c.status == "submitted")
                .values(**values)
            )
            row = (
                await conn.execute(select(ds_dossiers).where(ds_dossiers.c.number == number))
            ).one_or_none()
        if row is None:
            raise DossierNotFound("no such dossier")
        if result.rowcount != 1:
            raise InvalidTransition(f"the dossier is {row.status}, not submitted")
        return _link(row)

    async def for_person(self, person: str) -> list[DossierLink]:
        """The dossiers created for a person (their pseudonym), newest first."""
        query = (
            select(ds_dossiers)
            .where(ds_dossiers.c.person == person)
            .order_by(ds_dossiers.c.created_at.desc(), ds_dossiers.c.number)
        )
        async with self._database.connection() as conn:
            return [_link(row) for row in await conn.execute(query)]

    async def pending(self, before: datetime) -> list[DossierLink]:
        """Dossiers not processed and unchanged since ``before`` (created, submitted or
        failed), oldest change first: what a pass over DS checks again."""
        query = (
            select(ds_dossiers)
            .where(
                ds_dossiers.c.status.in_(("created", "submitted", "failed")),
                ds_dossiers.c.updated_at < _aware(before, "before"),
            )
            .order_by(ds_dossiers.c.updated_at, ds_dossiers.c.number)
        )
        async with self._database.connection() as conn:
            return [_link(row) for row in await conn.execute(query)]

    async def purge(self, expired_before: datetime) -> int:
        """Delete the rows that expired before ``expired_before``; how many were."""
        async with self._database.transaction() as conn:
            result = await conn.execute(
                delete(ds_dossiers).where(
                    ds_dossiers.c.expires_at < _aware(expired_before, "expired_before")
                )
            )
        return int(result.rowcount)
