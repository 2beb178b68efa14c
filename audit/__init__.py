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
"""

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
from audit.log import AuditLog, Receipt
from audit.migration import head_revision, migrate

__all__ = [
    "GENESIS",
    "AuditDatabase",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditUnavailable",
    "Checkpoint",
    "CheckpointSigner",
    "InvalidEntry",
    "Kind",
    "Outcome",
    "Receipt",
    "head_revision",
    "key_id_of",
    "leaf_hash",
    "migrate",
    "next_head",
    "open_database",
    "public_key_from_pem",
    "public_keys",
    "verify_checkpoint",
]
