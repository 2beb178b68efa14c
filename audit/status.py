"""The chain's state at a glance, for the auditors' console: the last full verification, the
last signed checkpoint and its cosignatures, and a check of the recent tail made on demand.

A full verification (:func:`audit.verify`, ``unefois audit verify``) reads every entry and
may take minutes; its result is recorded with :func:`record_verification` and read back
here. What happened since is covered by the tail check: the entries after the last signed
checkpoint (at most ``tail`` of them, the newest) must hash to their leaves and chain onto
each other, the first onto the checkpoint's head or the stored head before it, and the last
must give the head row. It catches an entry altered or dropped since the last checkpoint
without its chain being recomputed; a rewrite that recomputed the chain is the full
verification's, against trusted checkpoints. Checkpoint signatures are checked by the full
verification, which holds the public keys.

Cosignatures are read from the witness file (:class:`audit.WitnessFile`), where
:class:`audit.HttpWitness` keeps those it received; the file gives which witnesses cosigned
the checkpoint, not a check of their signatures (``unefois audit verify`` does that).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from sqlalchemy import select

from audit import tables
from audit.chain import GENESIS, leaf_hash, next_head
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.errors import InvalidEntry
from audit.ledger import checkpoint_from_row, read_head
from audit.verify import Report

TAIL = 10_000
_E = tables.entries.c


@dataclass(frozen=True)
class Verification:
    """One recorded full verification."""

    at: datetime
    ok: bool
    size: int  # entries found good
    position: int | None  # the first bad entry, if one could be named
    problem: str | None
    witnessed: int | None  # the largest trusted checkpoint reproduced


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    signed_at: datetime
    key_id: str
    origin: str
    cosigned_by: tuple[str, ...]  # witnesses whose cosignature the witness file holds


@dataclass(frozen=True)
class TailCheck:
    ok: bool
    start: int  # the entries checked are (start, end]
    end: int
    problem: str | None  # names a position, never an entry's values


@dataclass(frozen=True)
class ChainStatus:
    size: int  # entries in the log
    last_verification: Verification | None
    last_checkpoint: SignedCheckpoint | None
    tail: TailCheck
    witness_file: bool  # whether a witness file was read for the cosignatures


async def record_verification(db: AuditDatabase, report: Report, at: datetime) -> None:
    """Keep a full verification's result for :func:`chain_status`."""
    async with db.transaction(write=True) as conn:
        await conn.execute(
            tables.verifications.insert().values(
                at=at,
                ok=report.ok,
                size=report.size,
                position=report.position,
                problem=report.problem,
                witnessed=report.witnessed,
            )
        )


async def chain_status(
    db: AuditDatabase, *, witness_file: Path | None = None, tail: int = TAIL
) -> ChainStatus:
    if tail < 1:
        raise ValueError("the tail check reads at least one entry")
    v, k = tables.verifications.c, tables.checkpoints.c
    async with db.connection() as conn:
        size, head = await read_head(conn)
        last = select(tables.verifications).order_by(v.id.desc()).limit(1)
        row = (await conn.execute(last)).first()
        cp_row = (
            await conn.execute(select(tables.checkpoints).order_by(k.size.desc()).limit(1))
        ).first()
    verification = (
        Verification(row.at, bool(row.ok), int(row.size), row.position, row.problem, row.witnessed)
        if row is not None
        else None
    )
    checkpoint = None
    if cp_row is not None:
        cp = checkpoint_from_row(cp_row)
        cosigners = _cosigners(witness_file, cp.size, cp.head) if witness_file else ()
        checkpoint = SignedCheckpoint(cp.size, cp.signed_at, cp.key_id, cp.origin, cosigners)
    start = max(cp_row.size if cp_row is not None else 0, size - tail, 0)
    known = bytes(cp_row.head) if cp_row is not None and start == cp_row.size else None
    return ChainStatus(
        size=size,
        last_verification=verification,
        last_checkpoint=checkpoint,
        tail=await _check_tail(db, start, size, head, known),
        witness_file=witness_file is not None,
    )


async def _check_tail(
    db: AuditDatabase, start: int, end: int, head: bytes, known: bytes | None
) -> TailCheck:
    def bad(problem: str) -> TailCheck:
        return TailCheck(False, start, end, problem)

    query = (
        select(_E.seq, _E.canonical, _E.leaf, _E.head, _E.corrects)
        .where(_E.seq >= max(start, 1), _E.seq <= end)
        .order_by(_E.seq)
    )
    async with db.connection() as conn:
        rows = (await conn.execute(query)).all()
    previous = GENESIS if start == 0 else known
    expected = start + 1
    for seq, canonical, leaf, stored, corrects in rows:
        seq, leaf, stored = int(seq), bytes(leaf), bytes(stored)
        if seq == start:  # the entry before the tail gives the head to chain onto
            if known is not None and stored != known:
                return bad(f"entry {seq} does not give the head its checkpoint signed")
            previous = stored
            continue
        if seq != expected:
            return bad(f"entry {expected} is missing")
        if previous is None:
            return bad(f"entry {start} is missing")
        if leaf_hash(bytes(canonical)) != leaf:
            return bad(f"entry {seq} was altered: its bytes do not hash to its leaf")
        if not _corrects_agrees(bytes(canonical), corrects):
            # The pages leave out the entry this column names (audit.folding).
            return bad(f"entry {seq} was altered: its corrects column disagrees")
        previous = next_head(previous, leaf)
        if previous != stored:
            return bad(f"entry {seq} does not chain onto the entry before it")
        expected += 1
    if expected != end + 1:
        return bad(f"entry {expected} is missing")
    if end > 0 and previous != head:
        return bad("the head row does not match the last entry")
    return TailCheck(True, start, end, None)


def _corrects_agrees(canonical: bytes, column: str | None) -> bool:
    """Whether the ``corrects`` column is what the entry's bytes say; the bytes are decoded
    only when either side names a correction (rare), not for every entry of the tail."""
    if column is None and b'"corrects"' not in canonical:
        return True
    try:
        return AuditEntry.from_canonical(canonical).corrects == column
    except InvalidEntry:
        return False


def _cosigners(path: Path, size: int, head: bytes) -> tuple[str, ...]:
    """The witnesses the file holds a cosignature from for the checkpoint (size, head)."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return ()
    wanted = base64.b64encode(head).decode("ascii")
    found = set()
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a torn last line; the full verification reports the file's state
        if (
            isinstance(value, dict)
            and isinstance(value.get("cosignature"), dict)
            and value.get("size") == size
            and value.get("head") == wanted
        ):
            found.add(str(value["cosignature"].get("witness", "")))
    return tuple(sorted(found))
