"""Test doubles for the exchange's unit tests: an audit sink that keeps entries in a list."""

from __future__ import annotations

from datetime import UTC, datetime

from audit import AuditEntry, AuditUnavailable, Receipt, leaf_hash
from exchange import Pseudonyms
from exchange.auditing import Auditor

NOW = datetime(2025, 7, 10, 12, tzinfo=UTC)


class MemorySink:
    def __init__(self, broken: bool = False) -> None:
        self.entries: list[AuditEntry] = []
        self.broken = broken

    async def append(self, entry: AuditEntry) -> Receipt:
        if self.broken:
            raise AuditUnavailable("the audit database is down")
        self.entries.append(entry)
        return Receipt(seq=len(self.entries), leaf=leaf_hash(entry.canonical()))


def auditor(pseudonyms: Pseudonyms, sink: MemorySink | None = None) -> Auditor:
    return Auditor(sink or MemorySink(), pseudonyms, lambda: NOW)
