"""Tamper-evident access log: entries, hash chain, signed checkpoints, stores, verification
(DESIGN §7).

Wiring::

    db = await open_database(url, schema=None)
    await migrate(db)                                  # idempotent, at every start
    log = AuditLog(db, CheckpointSigner.from_file(key_path), origin, clock=clock)
    await log.start()
    receipt = await log.append(entry)                  # before the answer leaves
    ...
    await log.aclose()
    await db.aclose()

Read side: ``AuditReader(db)`` (pages, statistics, anomalies), ``verify(db, public_keys)``,
``export(db, out, start=…, end=…, format="jsonl")``.
"""

from audit.anomalies import Anomaly, AnomalyRules
from audit.chain import GENESIS, leaf_hash, next_head
from audit.checkpoint import (
    Checkpoint,
    CheckpointSigner,
    key_id_of,
    public_key_from_pem,
    public_keys,
    verify_checkpoint,
)
from audit.database import AuditDatabase, open_database
from audit.entry import AuditEntry, Kind, Outcome
from audit.errors import AuditError, AuditUnavailable, InvalidEntry
from audit.export import export
from audit.log import AuditLog, Receipt
from audit.migration import head_revision, migrate
from audit.query import AuditFilter, AuditReader, DayCount, Page, Stats, Stored
from audit.verify import Report, verify

__all__ = [
    "GENESIS",
    "Anomaly",
    "AnomalyRules",
    "AuditDatabase",
    "AuditEntry",
    "AuditError",
    "AuditFilter",
    "AuditLog",
    "AuditReader",
    "AuditUnavailable",
    "Checkpoint",
    "CheckpointSigner",
    "DayCount",
    "InvalidEntry",
    "Kind",
    "Outcome",
    "Page",
    "Receipt",
    "Report",
    "Stats",
    "Stored",
    "export",
    "head_revision",
    "key_id_of",
    "leaf_hash",
    "migrate",
    "next_head",
    "open_database",
    "public_key_from_pem",
    "public_keys",
    "verify",
    "verify_checkpoint",
]
