"""``unefois audit …``: verify the log, write a checkpoint, export entries.

Run against the database the gateway is configured with (``UNEFOIS_DATABASE_URL``, or the
SQLite file of the data directory). The checkpoint key is the gateway's, in the data
directory; ``verify`` also accepts the public keys of former or other replicas' keys.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson

from audit import (
    AuditLog,
    CheckpointSigner,
    export,
    migrate,
    open_database,
    public_key_from_pem,
    public_keys,
    verify,
)
from gateway.audit_log import KEY_FILE, audit_origin
from gateway.settings import Settings
from store import database_url_for


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="verify, checkpoint or export the audit log")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    check = asub.add_parser("verify", help="check every entry, the chain and the checkpoints")
    check.add_argument(
        "--public-key",
        action="append",
        type=Path,
        default=[],
        help="a PEM public key of checkpoints (besides this gateway's own); repeatable",
    )
    asub.add_parser("checkpoint", help="sign and store a checkpoint of the log now")
    out = asub.add_parser("export", help="write entries as JSON lines or CSV")
    out.add_argument("--from", dest="start", type=_aware, help="ISO 8601 time, included")
    out.add_argument("--to", dest="end", type=_aware, help="ISO 8601 time, excluded")
    out.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    out.add_argument("--output", type=Path, help="a file (default: standard output)")


async def _run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    url = database_url_for(settings.data_dir, settings.database_url)
    db = await open_database(url, schema=settings.database_schema)
    try:
        await migrate(db)
        signer = CheckpointSigner.from_file(settings.data_dir / KEY_FILE)
        if args.audit_command == "verify":
            keys = [signer.public_key] + [
                public_key_from_pem(p.read_bytes()) for p in args.public_key
            ]
            report = await verify(db, public_keys(*keys))
            stdout.write(
                orjson.dumps(
                    {
                        "ok": report.ok,
                        "size": report.size,
                        "checkpoints": report.checked_checkpoints,
                        "position": report.position,
                        "problem": report.problem,
                    }
                ).decode()
                + "\n"
            )
            return 0 if report.ok else 1
        if args.audit_command == "checkpoint":
            log = AuditLog(
                db, signer, audit_origin(settings.public_url), clock=lambda: datetime.now(UTC)
            )
            cp = await log.checkpoint()
            stdout.write(
                orjson.dumps(
                    {"origin": cp.origin, "size": cp.size, "head": cp.head.hex(), "key": cp.key_id}
                ).decode()
                + "\n"
            )
            return 0
        target = args.output.open("w", encoding="utf-8", newline="") if args.output else stdout
        try:
            rows = await export(db, target, start=args.start, end=args.end, format=args.format)
        finally:
            if args.output:
                target.close()
        print(f"{rows} entries exported", file=sys.stderr)
        return 0
    finally:
        await db.aclose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args, sys.stdout))
