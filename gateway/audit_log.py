"""The audit log as the services see it, opened when the application starts.

Like the consent store: the services are built with the application, the database is opened,
migrated and its writer started in the lifespan. If it cannot be opened the gateway does not
start: a gateway that cannot record accesses must not serve any.
"""

from __future__ import annotations

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

KEY_FILE = "audit-signing-key.pem"


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
    ) -> None:
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
        self._log = AuditLog(
            self._db, signer, self._origin, clock=self._clock, sqlite_synchronous=self._sqlite_sync
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
