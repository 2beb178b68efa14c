"""API clients at rest: who may ask for a token, with which scopes, and whether they still may.

Every change (a client added, disabled, given a new secret, a file imported, and a trusted
document registered or revoked: ``store.documents``) bumps the one-row ``clients_version`` in
the same transaction. A replica reads that number once per
request and reloads the clients only when it moved, so a change made by any process holds at
every replica's next request, with no cache lifetime to wait out. Only secret hashes are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store import registry_version
from store.database import Database
from store.errors import ClientExists, ClientNotFound, InvalidRecord
from store.tables import clients

ClientStatus = Literal["active", "disabled"]
STATUSES: tuple[ClientStatus, ...] = ("active", "disabled")


@dataclass(frozen=True)
class ClientRecord:
    id: str
    name: str
    scopes: frozenset[str]
    sector: str
    secret_hash: str
    created_at: datetime
    updated_at: datetime
    audience: str | None = None
    status: ClientStatus = "active"
    # When the secret last changed; None: not since the client was registered or imported.
    secret_rotated_at: datetime | None = None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord("at must be timezone-aware")
    return value.astimezone(UTC)


def _record(row: Any) -> ClientRecord:
    return ClientRecord(
        id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes),
        sector=row.sector,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        secret_rotated_at=row.secret_rotated_at,
        audience=row.audience,
        status=row.status,
    )


def _values(record: ClientRecord) -> dict[str, Any]:
    if record.status not in STATUSES:
        raise InvalidRecord("a client's status is active or disabled")
    if not record.scopes:
        raise InvalidRecord("a client has at least one scope")
    return {
        "id": record.id,
        "name": record.name,
        "scopes": record.scopes,
        "sector": record.sector,
        "audience": record.audience,
        "secret_hash": record.secret_hash,
        "status": record.status,
        "created_at": _aware(record.created_at),
        "updated_at": _aware(record.updated_at),
        "secret_rotated_at": (
            None if record.secret_rotated_at is None else _aware(record.secret_rotated_at)
        ),
    }


class ClientStore:
    """The client registry in a migrated :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def version(self) -> int:
        """The registry's version: 0 until its first change, then one more per change.

        Read at every client's request (``store.registry_version``: its fast path)."""
        return await registry_version.current(self._database)

    async def snapshot(self) -> tuple[int, list[ClientRecord]]:
        """The version and every client, disabled ones included.

        The version is read first: a change committed between the two reads makes the clients
        newer than the version, never older, and the next read of the version sees it.
        """
        async with self._database.connection() as conn:
            version = await registry_version.read(conn)
            rows = (await conn.execute(select(clients).order_by(clients.c.id))).all()
        return version, [_record(row) for row in rows]

    async def all(self) -> list[ClientRecord]:
        return (await self.snapshot())[1]

    async def get(self, client_id: str) -> ClientRecord:
        async with self._database.connection() as conn:
            row = (
                await conn.execute(select(clients).where(clients.c.id == client_id))
            ).one_or_none()
        if row is None:
            raise ClientNotFound("no client with that id")
        return _record(row)

    async def add(self, record: ClientRecord) -> None:
        """Register a new client; :class:`ClientExists` if the id is taken."""
        values = _values(record)
        async with self._database.transaction() as conn:
            await registry_version.lock(conn)
            if await _exists(conn, record.id):
                raise ClientExists("a client with that id already exists")
            await conn.execute(clients.insert().values(**values))
            await registry_version.bump(conn)

    async def set_status(self, client_id: str, status: ClientStatus, at: datetime) -> ClientRecord:
        if status not in STATUSES:
            raise InvalidRecord("a client's status is active or disabled")
        return await self._change(client_id, {"status": status, "updated_at": _aware(at)})

    async def set_secret(self, client_id: str, secret_hash: str, at: datetime) -> ClientRecord:
        """A new secret hash; tokens issued before ``at`` stop being accepted."""
        when = _aware(at)
        return await self._change(
            client_id, {"secret_hash": secret_hash, "updated_at": when, "secret_rotated_at": when}
        )

    async def put(self, records: Sequence[ClientRecord]) -> None:
        """Insert or replace these clients (the demo clients of the embedded setup, whose
        secrets change at every start: give ``secret_rotated_at``)."""
        async with self._database.transaction() as conn:
            await registry_version.lock(conn)
            for record in records:
                values = _values(record)
                if await _exists(conn, record.id):
                    values.pop("created_at")
                    await conn.execute(
                        update(clients).where(clients.c.id == record.id).values(**values)
                    )
                else:
                    await conn.execute(clients.insert().values(**values))
            await registry_version.bump(conn)

    async def add_missing(self, records: Sequence[ClientRecord]) -> tuple[list[str], list[str]]:
        """Register the records whose ids are free; (ids added, ids already registered)."""
        added: list[str] = []
        kept: list[str] = []
        async with self._database.transaction() as conn:
            await registry_version.lock(conn)
            for record in records:
                if await _exists(conn, record.id):
                    kept.append(record.id)
                else:
                    await conn.execute(clients.insert().values(**_values(record)))
                    added.append(record.id)
            await registry_version.bump(conn)
        return added, kept

    async def import_once(self, records: Iterable[ClientRecord]) -> bool:
        """Register ``records`` if the registry was never written; False if it was.

        Replicas starting together on one database take turns on the version row: one
        imports, the others find the version moved.
        """
        async with self._database.transaction() as conn:
            if await registry_version.lock(conn) != 0:
                return False
            for record in records:
                await conn.execute(clients.insert().values(**_values(record)))
            await registry_version.bump(conn)
        return True

    async def _change(self, client_id: str, values: dict[str, Any]) -> ClientRecord:
        async with self._database.transaction() as conn:
            await registry_version.lock(conn)
            done = await conn.execute(
                update(clients).where(clients.c.id == client_id).values(**values)
            )
            if done.rowcount == 0:
                raise ClientNotFound("no client with that id")
            await registry_version.bump(conn)
            row = (await conn.execute(select(clients).where(clients.c.id == client_id))).one()
        return _record(row)


async def _exists(conn: AsyncConnection, client_id: str) -> bool:
    found = await conn.execute(select(clients.c.id).where(clients.c.id == client_id))
    return found.one_or_none() is not None
