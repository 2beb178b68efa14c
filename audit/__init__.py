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

Witnesses: ``AuditLog(…, witnesses=[WitnessFile(path), HttpWitness(url, store=…)])`` sends
every checkpoint outside the database.

Read side: ``AuditReader(db)`` (pages, statistics, anomalies, declared campaigns, filtered
exports, the chain's status),
``verify(db, public_keys, trusted=read_checkpoints(path), grace=n)`` on
``open_database(url, read_only=True)``, ``export(db, out, start=…, end=…, format="jsonl")``.
"""

from audit.anomalies import Anomaly, AnomalyRules
from audit.campaigns import Campaign
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
from audit.entry import CORRECTS, AuditEntry, Kind, Outcome
from audit.errors import AuditError, AuditUnavailable, InvalidEntry, WitnessFailed
from audit.export import export
from audit.log import AuditLog, Receipt
from audit.migration import head_revision, migrate
from audit.query import AuditFilter, AuditReader, DayCount, Page, Stats, Stored
from audit.status import ChainStatus, record_verification
from audit.verify import Report, verify
from audit.witness import (
    Cosignature,
    HttpWitness,
    Witness,
    WitnessFile,
    checkpoint_json,
    checkpoint_of_json,
    cosigned_message,
    read_checkpoints,
    verify_cosignature,
)

__all__ = [
    "CORRECTS",
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
    "Campaign",
    "ChainStatus",
    "Checkpoint",
    "CheckpointSigner",
    "Cosignature",
    "DayCount",
    "HttpWitness",
    "InvalidEntry",
    "Kind",
    "Outcome",
    "Page",
    "Receipt",
    "Report",
    "Stats",
    "Stored",
    "Witness",
    "WitnessFailed",
    "WitnessFile",
    "checkpoint_json",
    "checkpoint_of_json",
    "cosigned_message",
    "export",
    "head_revision",
    "key_id_of",
    "leaf_hash",
    "migrate",
    "next_head",
    "open_database",
    "public_key_from_pem",
    "public_keys",
    "read_checkpoints",
    "record_verification",
    "verify",
    "verify_checkpoint",
    "verify_cosignature",
]
