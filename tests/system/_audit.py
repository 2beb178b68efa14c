"""Reading the audit log the gateways wrote, the way an auditor would: with ``audit``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from audit import (
    AuditDatabase,
    CheckpointSigner,
    Report,
    public_key_from_pem,
    public_keys,
    tables,
    verify,
)
from runtime.audit_wiring import KEY_FILE
from tests.system._stack import Gateway


def trusted_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """The public half of the gateway's checkpoint key, as ``verify`` takes it."""
    path = data_dir / KEY_FILE
    assert path.exists(), f"the gateway wrote no checkpoint key at {path}"
    pem = CheckpointSigner.from_file(path).public_key_pem()
    return public_keys(public_key_from_pem(pem))


async def verified(db: AuditDatabase, data_dir: Path) -> Report:
    return await verify(db, trusted_keys(data_dir))


async def entry_rows(db: AuditDatabase) -> list[tuple[int, str, str | None]]:
    """``(seq, id, object)`` of every entry, in seq order."""
    e = tables.entries.c
    async with db.snapshot() as conn:
        rows = (await conn.execute(select(e.seq, e.id, e.object).order_by(e.seq))).all()
    return [(int(r.seq), str(r.id), r.object) for r in rows]


async def entry_count(db: AuditDatabase) -> int:
    async with db.snapshot() as conn:
        count = (await conn.execute(select(func.count()).select_from(tables.entries))).scalar()
    return int(count or 0)


def cli_verify(gateway: Gateway, timeout: float = 120) -> dict[str, Any]:
    """``unefois audit verify`` run with the gateway's settings: its JSON report, which must
    say the chain verifies (exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
