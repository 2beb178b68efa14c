"""The audit log of this deployment: its database tables, its signing key, its witnesses.

The private key comes from ``UNEFOIS_AUDIT_SIGNING_KEY`` (or its ``_FILE``), the same on every
replica writing the log; without it, one is made in the data directory (mode 0600). Its public
half is published in the data directory for verifiers. Every checkpoint goes to a witness
file outside the database and, when configured, to a cosigning witness over HTTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import AuditDatabase, AuditLog, CheckpointSigner, migrate
from audit.witness import HttpWitness, Witness, WitnessFile
from database import Engine
from runtime.errors import ConfigurationError
from runtime.settings import Settings

KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEY_FILE = "audit-signing-key.pub.pem"
WITNESS_FILE = "audit-witness.jsonl"


def witness_path(data_dir: Path, configured: Path | None) -> Path:
    """Where checkpoints are witnessed: the configured file, else one in the data directory."""
    return configured if configured is not None else data_dir / WITNESS_FILE


def checkpoint_signer(settings: Settings) -> CheckpointSigner:
    """The configured key, else the data directory's (made on first start)."""
    if settings.audit_signing_key is None:
        path = settings.data_dir / KEY_FILE
        try:
            return CheckpointSigner.from_file(path)
        except (ValueError, TypeError):
            raise ConfigurationError(f"{path}: not an Ed25519 private key (PEM)") from None
    try:
        key = serialization.load_pem_private_key(
            settings.audit_signing_key.encode("utf-8"), password=None
        )
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError("UNEFOIS_AUDIT_SIGNING_KEY: not an Ed25519 private key (PEM)")
    return CheckpointSigner(key)


def audit_origin(public_url: str) -> str:
    """The name checkpoints are signed under: this log, of this gateway."""
    return f"unefois audit log {public_url}"


async def open_audit_log(
    engine: Engine, settings: Settings, clock: Callable[[], datetime]
) -> tuple[AuditDatabase, AuditLog]:
    """The audit tables migrated, the log's writer started (the caller closes the log)."""
    db = AuditDatabase(engine)
    await migrate(db)
    signer = checkpoint_signer(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    publish(settings.data_dir / PUBLIC_KEY_FILE, signer.public_key_pem())
    witness_file = WitnessFile(witness_path(settings.data_dir, settings.audit_witness_file))
    witnesses: list[Witness] = [witness_file]
    if settings.audit_witness_url:
        witnesses.append(HttpWitness(settings.audit_witness_url, store=witness_file))
    log = AuditLog(
        db,
        signer,
        audit_origin(settings.public_url),
        clock=clock,
        sqlite_synchronous=settings.audit_sqlite_sync,
        witnesses=witnesses,
    )
    await log.start()
    return db, log


def publish(path: Path, pem: bytes) -> None:
    """Write the public key for verifiers, unless it is there already."""
    try:
        if path.read_bytes() == pem:
            return
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(pem)
    temporary.replace(path)
