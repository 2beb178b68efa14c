"""The audit log as the services see it, opened when the application starts.

Like the consent store: the services are built with the application, the database is opened,
migrated and its writer started in the lifespan. If it cannot be opened the gateway does not
start: a gateway that cannot record accesses must not serve any.

Every checkpoint also goes to the witness file (``UNEFOIS_AUDIT_WITNESS_FILE``, by default
in the data directory) and, when ``UNEFOIS_AUDIT_WITNESS_URL`` is set, to a cosigning witness
whose cosignatures are appended to the same file. The public half of the checkpoint key is
written beside the private one, so that ``unefois audit verify`` never reads the private key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from audit import (
    AnomalyRules,
    AuditDatabase,
    AuditEntry,
    AuditFilter,
    AuditLog,
    AuditReader,
    AuditUnavailable,
    Checkpoint,
    CheckpointSigner,
    Page,
    Receipt,
    migrate,
    open_database,
)
from audit.anomalies import Anomaly
from audit.query import DEFAULT_RULES, Stats
from audit.witness import HttpWitness, Witness, WitnessFile

KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEY_FILE = "audit-signing-key.pub.pem"
WITNESS_FILE = "audit-witness.jsonl"


def witness_path(data_dir: Path, configured: Path | None) -> Path:
    """Where checkpoints are witnessed: the configured file, else one in the data directory."""
    return configured if configured is not None else data_dir / WITNESS_FILE


def audit_origin(public_url: str) -> str:
    """The name checkpoints are signed under: this log, of this gateway."""
    return f"unefois audit log {public_url}"


class StartedAudit:
    def __init__(
        self,
        url: str,
        schema: str | None,
        data_dir: Path,
        origin: str,
        clock: Callable[[], datetime],
        sqlite_sync: Literal["FULL", "NORMAL"] = "FULL",
        *,
        witness_file: Path | None = None,
        witness_url: str | None = None,
    ) -> None:
        self._data_dir = data_dir
        self._witness_file = WitnessFile(witness_path(data_dir, witness_file))
        self._witness_url = witness_url
        self._sqlite_sync: Literal["FULL", "NORMAL"] = sqlite_sync
        self._url = url
        self._schema = schema
        self._key_path = data_dir / KEY_FILE
        self._origin = origin
        self._clock = clock
        self._db: AuditDatabase | None = None
        self._log: AuditLog | None = None
        self._reader: AuditReader | None = None

    async def start(self) -> None:
        self._db = await open_database(self._url, schema=self._schema)
        await migrate(self._db)
        signer = CheckpointSigner.from_file(self._key_path)
        _publish(self._data_dir / PUBLIC_KEY_FILE, signer.public_key_pem())
        witnesses: list[Witness] = [self._witness_file]
        if self._witness_url:
            witnesses.append(HttpWitness(self._witness_url, store=self._witness_file))
        self._log = AuditLog(
            self._db,
            signer,
            self._origin,
            clock=self._clock,
            sqlite_synchronous=self._sqlite_sync,
            witnesses=witnesses,
        )
        await self._log.start()
        self._reader = AuditReader(self._db)

    async def aclose(self) -> None:
        if self._log is not None:
            await self._log.aclose()
        if self._db is not None:
            await self._db.aclose()

    def _started(self) -> tuple[AuditLog, AuditReader]:
        if self._log is None or self._reader is None:
            raise AuditUnavailable("the audit log is not started")
        return self._log, self._reader

    async def append(self, entry: AuditEntry) -> Receipt:
        return await self._started()[0].append(entry)

    async def checkpoint(self) -> Checkpoint:
        return await self._started()[0].checkpoint()

    async def entries(
        self, filter: AuditFilter, *, first: int = 50, after: int | None = None
    ) -> Page:
        return await self._started()[1].entries(filter, first=first, after=after)

    async def stats(self, start: datetime, end: datetime) -> Stats:
        return await self._started()[1].stats(start, end)

    async def anomalies(
        self, start: datetime, end: datetime, rules: AnomalyRules = DEFAULT_RULES
    ) -> tuple[Anomaly, ...]:
        return await self._started()[1].anomalies(start, end, rules)


def _publish(path: Path, pem: bytes) -> None:
    """Write the public key for verifiers, unless it is there already."""
    try:
        if path.read_bytes() == pem:
            return
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(pem)
    temporary.replace(path)
