"""Trusted documents: per client, the GraphQL documents it may run, by their hash.

A document is kept with its text, its GraphQL-over-HTTP identifier (``sha256:`` and the
lower-case hex SHA-256 of the UTF-8 text), the client it belongs to, an optional name, when it
was registered and, once revoked, when. Every change bumps the client registry's one-row
``clients_version`` in the same transaction: what a client may run is part of what it is
registered for, and a replica already reads that number at each client's request (to know
whether its clients are current), so it learns from the same read whether its allow-lists
are; a registration or a revocation holds at every replica's next request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from store import registry_version
from store.database import Database
from store.errors import InvalidRecord, StoreError
from store.tables import trusted_documents

# GraphQL over HTTP, Appendix A (Persisted Documents), "SHA256 Hex Document Identifier".
DOCUMENT_ID = re.compile(r"sha256:[0-9a-f]{64}")


class DocumentNotFound(StoreError, LookupError):
    pass


def document_hash(text: str) -> str:
    """The document's identifier: ``sha256:`` and the hex SHA-256 of its UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrustedDocument:
    client_id: str
    text: str
    hash: str
    registered_at: datetime
    name: str | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord("at must be timezone-aware")
    return value.astimezone(UTC)


def _record(row: Any) -> TrustedDocument:
    return TrustedDocument(
        client_id=row.client_id,
        text=row.text,
        hash=row.hash,
        registered_at=row.registered_at,
        name=row.name,
        revoked_at=row.revoked_at,
    )


def _values(document: TrustedDocument) -> dict[str, Any]:
    if not document.client_id or not document.text.strip():
        raise InvalidRecord("a trusted document has a client and a text")
    if document.hash != document_hash(document.text):
        raise InvalidRecord("a trusted document's hash is the SHA-256 of its text")
    return {
        "client_id": document.client_id,
        "hash": document.hash,
        "text": document.text,
        "name": document.name,
        "registered_at": _aware(document.registered_at),
        "revoked_at": None,
    }


class DocumentStore:
    """The trusted documents in a migrated :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def version(self) -> int:
        """The client registry's version, which every change of documents moves too."""
        return await registry_version.current(self.database)

    async def snapshot(self) -> tuple[int, list[TrustedDocument]]:
        """The version and the documents not revoked; the version is read first (a change
        committed between the two reads is seen again at the next read of the version)."""
        async with self.database.connection() as conn:
            version = await registry_version.read(conn)
            query = select(trusted_documents).where(trusted_documents.c.revoked_at.is_(None))
            rows = (await conn.execute(query)).all()
        return version, [_record(row) for row in rows]

    async def of_client(self, client_id: str) -> list[TrustedDocument]:
        """The client's documents, revoked ones included, oldest first."""
        query = (
            select(trusted_documents)
            .where(trusted_documents.c.client_id == client_id)
            .order_by(trusted_documents.c.registered_at, trusted_documents.c.hash)
        )
        async with self.database.connection() as conn:
            rows = (await conn.execute(query)).all()
        return [_record(row) for row in rows]

    async def register(self, documents: Sequence[TrustedDocument]) -> tuple[list[str], list[str]]:
        """Register the documents; (hashes added, hashes already registered and active).

        A revoked document registered again is active again, from its new ``registered_at``.
        """
        values = [_values(d) for d in documents]
        added: list[str] = []
        kept: list[str] = []
        async with self.database.transaction() as conn:
            await registry_version.lock(conn)
            for value in values:
                key = (trusted_documents.c.client_id == value["client_id"]) & (
                    trusted_documents.c.hash == value["hash"]
                )
                row = (await conn.execute(select(trusted_documents).where(key))).one_or_none()
                if row is None:
                    await conn.execute(trusted_documents.insert().values(**value))
                    added.append(value["hash"])
                elif row.revoked_at is not None:
                    await conn.execute(update(trusted_documents).where(key).values(**value))
                    added.append(value["hash"])
                else:
                    kept.append(value["hash"])
            if added:
                await registry_version.bump(conn)
        return added, kept

    async def revoke(self, client_id: str, hash_: str, at: datetime) -> TrustedDocument:
        """Mark the document revoked; :class:`DocumentNotFound` if the client has no such
        document still active."""
        when = _aware(at)
        key = (
            (trusted_documents.c.client_id == client_id)
            & (trusted_documents.c.hash == hash_)
            & trusted_documents.c.revoked_at.is_(None)
        )
        async with self.database.transaction() as conn:
            await registry_version.lock(conn)
            done = await conn.execute(update(trusted_documents).where(key).values(revoked_at=when))
            if done.rowcount == 0:
                raise DocumentNotFound("the client has no active document with that hash")
            await registry_version.bump(conn)
            row = (
                await conn.execute(
                    select(trusted_documents).where(
                        (trusted_documents.c.client_id == client_id)
                        & (trusted_documents.c.hash == hash_)
                    )
                )
            ).one()
        return _record(row)
