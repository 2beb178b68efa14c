"""``unefois audit …``: verify the log, write a checkpoint, export entries.

Run against the database the gateway is configured with (``UNEFOIS_DATABASE_URL``, or the
SQLite file of the data directory).

``verify`` opens the database read-only, never migrates it and never reads a private key: it
trusts the public keys given with ``--public-key`` (by default the one the gateway published
in its data directory) and the checkpoints of ``--trusted-checkpoint`` files (by default the
configured witness file), and fails when more than ``--grace`` entries follow the last
trusted checkpoint. With ``--record`` it then keeps its result for the auditors' chain status,
through a second, writable connection (``"recorded": false`` when the database does not take
it: the verification's answer is the same). ``checkpoint`` signs with the gateway's key and
sends the checkpoint to the witnesses too.
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
    AuditError,
    AuditUnavailable,
    Report,
    export,
    open_database,
    public_key_from_pem,
    public_keys,
    verify,
)
from audit.checkpoint import Checkpoint
from audit.status import record_verification
from audit.witness import read_checkpoints
from runtime import Services
from runtime.audit_wiring import PUBLIC_KEY_FILE, witness_path
from runtime.settings import Settings
from store import database_url_for


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="verify, checkpoint or export the audit log")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    check = asub.add_parser("verify", help="check every entry, the chain and the checkpoints")
    check.add_argument(
        "--record",
        action="store_true",
        help="once done, record the result for the auditors' chain status (a write)",
    )
    check.add_argument(
        "--public-key",
        action="append",
        type=Path,
        default=[],
        help="a PEM public key of checkpoints; repeatable (default: the key the gateway "
        f"published, <data dir>/{PUBLIC_KEY_FILE})",
    )
    check.add_argument(
        "--trusted-checkpoint",
        action="append",
        type=Path,
        default=[],
        help="a file of checkpoints kept outside the database (a witness file, one JSON line "
        "each); repeatable (default: the configured witness file, if it exists)",
    )
    check.add_argument(
        "--grace",
        type=int,
        help="entries allowed after the last trusted checkpoint "
        "(default: UNEFOIS_AUDIT_WITNESS_GRACE)",
    )
    asub.add_parser("checkpoint", help="sign and store a checkpoint of the log now")
    out = asub.add_parser("export", help="write entries as JSON lines or CSV")
    out.add_argument("--from", dest="start", type=_aware, help="ISO 8601 time, included")
    out.add_argument("--to", dest="end", type=_aware, help="ISO 8601 time, excluded")
    out.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    out.add_argument("--output", type=Path, help="a file (default: standard output)")


def _report(stdout: TextIO, value: dict[str, object]) -> None:
    stdout.write(orjson.dumps(value).decode() + "\n")


def _failure(stdout: TextIO, problem: str) -> int:
    _report(
        stdout, {"ok": False, "size": 0, "checkpoints": 0, "position": None, "problem": problem}
    )
    return 1


def _trusted(settings: Settings, args: argparse.Namespace) -> list[Checkpoint]:
    files = list(args.trusted_checkpoint)
    if not files:
        default = witness_path(settings.data_dir, settings.audit_witness_file)
        files = [default] if default.exists() else []
    found: list[Checkpoint] = []
    for path in files:
        try:
            found.extend(read_checkpoints(path))
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
    return found


async def _verify(settings: Settings, args: argparse.Namespace, url: str, stdout: TextIO) -> int:
    key_files = list(args.public_key) or [settings.data_dir / PUBLIC_KEY_FILE]
    try:
        keys = [public_key_from_pem(p.read_bytes()) for p in key_files]
        trusted = _trusted(settings, args)
    except (OSError, ValueError) as error:
        return _failure(stdout, f"cannot read the keys or trusted checkpoints: {error}")
    grace = args.grace if args.grace is not None else settings.audit_witness_grace
    try:
        db = await open_database(url, schema=settings.database_schema, read_only=True)
    except AuditUnavailable as error:
        return _failure(stdout, str(error))
    try:
        report = await verify(db, public_keys(*keys), trusted=trusted, grace=grace)
    finally:
        await db.aclose()
    recorded = await _record(settings, url, report) if args.record else False
    _report(
        stdout,
        {
            "ok": report.ok,
            "size": report.size,
            "checkpoints": report.checked_checkpoints,
            "witnessed": report.witnessed,
            "trusted_checkpoints": len(trusted),
            "position": report.position,
            "problem": report.problem,
            "recorded": recorded,
        },
    )
    return 0 if report.ok else 1


async def _record(settings: Settings, url: str, report: Report) -> bool:
    """Keep the result for the auditors' chain status; a database that cannot take it (read
    only, not migrated yet) leaves the verification's own answer unchanged."""
    try:
        db = await open_database(url, schema=settings.database_schema)
    except AuditError:
        return False
    try:
        await record_verification(db, report, datetime.now(UTC))
    except AuditError:
        return False
    finally:
        await db.aclose()
    return True


async def _run(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    if args.audit_command == "verify":
        url = database_url_for(settings.data_dir, settings.database_url)
        return await _verify(settings, args, url, stdout)
    async with Services.open(settings, lambda: datetime.now(UTC)) as services:
        if args.audit_command == "checkpoint":
            cp = await services.audit_log.checkpoint()
            stdout.write(
                orjson.dumps(
                    {"origin": cp.origin, "size": cp.size, "head": cp.head.hex(), "key": cp.key_id}
                ).decode()
                + "\n"
            )
            return 0
        target = args.output.open("w", encoding="utf-8", newline="") if args.output else stdout
        try:
            rows = await export(
                services.audit_database,
                target,
                start=args.start,
                end=args.end,
                format=args.format,
            )
        finally:
            if args.output:
                target.close()
    print(f"{rows} entries exported", file=sys.stderr)
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_run(settings, args, sys.stdout))
