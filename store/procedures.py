"""The démarches-simplifiées procedures registered for our forms.

A registration (``unefois procedure register``) keeps the mapping file as validated and the
procedure's champ descriptors as DS gave them then: the gateway builds prefill bodies from
this row, not from a file each replica would have to carry. Registering a procedure number
again replaces its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.tables import ds_procedures


class ProcedureNotFound(StoreError, LookupError):
    pass


@dataclass(frozen=True)
class ProcedureRecord:
    number: int  # DS's procedure number
    path: str  # DS's /commencer/<path>
    form: str  # our form id
    mapping: dict[str, Any] = field(default_factory=dict)  # the mapping file, as validated
    champs: list[Any] = field(default_factory=list)  # the champ descriptors, as data
    registered_at: datetime | None = None


def _record(row: Any) -> ProcedureRecord:
    return ProcedureRecord(
        number=int(row.number),
        path=row.path,
        form=row.form,
        mapping=row.mapping,
        champs=row.champs,
        registered_at=row.registered_at,
    )


def _check(record: ProcedureRecord) -> datetime:
    number = record.number
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise InvalidRecord("a procedure number is a positive integer")
    if not record.path or not record.form:
        raise InvalidRecord("a procedure needs a path and a form")
    if not isinstance(record.mapping, dict) or not isinstance(record.champs, list):
        raise InvalidRecord("a procedure's mapping is a mapping and its champs a list")
    at = record.registered_at
    if at is None or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidRecord("registered_at must be a timezone-aware time")
    return at.astimezone(UTC)


class ProcedureStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def register(self, record: ProcedureRecord) -> ProcedureRecord:
        """Store ``record``, replacing the row of the same procedure number if any."""
        at = _check(record)
        values = {
            "number": record.number,
            "path": record.path,
            "form": record.form,
            "mapping": record.mapping,
            "champs": record.champs,
            "registered_at": at,
        }
        async with self._database.transaction() as conn:
            await conn.execute(delete(ds_procedures).where(ds_procedures.c.number == record.number))
            await conn.execute(ds_procedures.insert().values(values))
        return await self.get(record.number)

    async def get(self, number: int) -> ProcedureRecord:
        query = select(ds_procedures).where(ds_procedures.c.number == number)
        async with self._database.connection() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise ProcedureNotFound(f"no procedure {number} is registered")
        return _record(row)

    async def for_form(self, form: str) -> list[ProcedureRecord]:
        """The procedures registered for ``form``, by number."""
        query = (
            select(ds_procedures)
            .where(ds_procedures.c.form == form)
            .order_by(ds_procedures.c.number)
        )
        async with self._database.connection() as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def all(self) -> list[ProcedureRecord]:
        query = select(ds_procedures).order_by(ds_procedures.c.number)
        async with self._database.connection() as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def remove(self, number: int) -> None:
        """Forget the procedure; :class:`ProcedureNotFound` if it was not registered."""
        async with self._database.transaction() as conn:
            result = await conn.execute(
                delete(ds_procedures).where(ds_procedures.c.number == number)
            )
        if result.rowcount != 1:
            raise ProcedureNotFound(f"no procedure {number} is registered")
