"""Tamper tests against an attacker who holds the database: every checkpoint deleted, the
entries rewritten, the chain and head row recomputed (and checkpoints re-signed with a key of
their own). The database alone then verifies; a checkpoint the witness file kept does not let
it. Each case runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from audit import (
    GENESIS,
    AuditDatabase,
    AuditEntry,
    AuditLog,
    CheckpointSigner,
    leaf_hash,
    public_keys,
    verify,
)
from audit import tables as t
from audit.ledger import Prepared, write_checkpoint
from audit.witness import WitnessFile, read_checkpoints
from audit.writer import _rows
from tests.audit.conftest import ORIGIN, T0, Clock, make_entry

WITNESSED = 20  # entries covered by the witnessed checkpoint
TOTAL = 30

Edit = Callable[[list[AuditEntry]], list[AuditEntry]]


def _modify(entries: list[AuditEntry]) -> list[AuditEntry]:
    entries[6] = replace(entries[6], client="someone-else")
    return entries


def _delete(entries: list[AuditEntry]) -> list[AuditEntry]:
    return entries[:6] + entries[7:]


def _insert(entries: list[AuditEntry]) -> list[AuditEntry]:
    return [*entries[:6], make_entry(500), *entries[6:]]


def _reorder(entries: list[AuditEntry]) -> list[AuditEntry]:
    entries[5], entries[6] = entries[6], entries[5]
    return entries


def _truncate(entries: list[AuditEntry]) -> list[AuditEntry]:
    return entries[: WITNESSED - 5]


def _nothing(entries: list[AuditEntry]) -> list[AuditEntry]:
    return entries


EDITS = {
    "modify": _modify,
    "delete": _delete,
    "insert": _insert,
    "reorder": _reorder,
    "truncate": _truncate,
    "rehash_only": _nothing,
}


async def _rewrite(db: AuditDatabase, edit: Edit) -> None:
    """What someone with write access can do: rewrite the whole log consistently."""
    async with db.transaction(write=True) as conn:
        stored = await conn.execute(select(t.entries.c.canonical).order_by(t.entries.c.seq))
        entries = [AuditEntry.from_canonical(bytes(row.canonical)) for row in stored]
        rewritten = edit(entries)
        await conn.execute(delete(t.checkpoints))
        await conn.execute(delete(t.entries))
        rows, head = _rows(1, GENESIS, [Prepared.of(e, leaf_hash) for e in rewritten])
        if rows:
            await conn.execute(insert(t.entries), rows)
        await conn.execute(update(t.head).where(t.head.c.id == 1).values(size=len(rows), head=head))


@pytest.fixture
def witness(tmp_path: Path) -> WitnessFile:
    return WitnessFile(tmp_path / "witness" / "audit-witness.jsonl")


async def _witnessed_log(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock, witness: WitnessFile
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock, checkpoint_every=10_000, witnesses=[witness])
    await log.start()
    for n in range(WITNESSED):
        await log.append(make_entry(n))
    await log.checkpoint()
    for n in range(WITNESSED, TOTAL):
        await log.append(make_entry(n))
    await log.aclose()  # its shutdown checkpoint at TOTAL goes to the witness too


@pytest.mark.parametrize("case", sorted(EDITS))
async def test_a_rewritten_log_fails_against_the_witnessed_checkpoint(
    db: AuditDatabase,
    signer: CheckpointSigner,
    clock: Clock,
    witness: WitnessFile,
    case: str,
) -> None:
    await _witnessed_log(db, signer, clock, witness)
    keys = public_keys(signer.public_key)
    trusted = read_checkpoints(witness.path)
    assert [cp.size for cp in trusted] == [WITNESSED, TOTAL]
    assert (await verify(db, keys, trusted=trusted, grace=0)).ok

    await _rewrite(db, EDITS[case])
    alone = await verify(db, keys)  # the database alone cannot tell
    assert alone.ok and alone.checked_checkpoints == 0, alone
    report = await verify(db, keys, trusted=trusted, grace=0)
    if case == "rehash_only":
        # Rehashing the same entries reproduces the same heads: only the deleted checkpoints
        # differ, and the witness still holds them. Nothing to flag.
        assert report.ok, report
        return
    assert not report.ok, case
    if case == "truncate":
        assert (report.position, report.size) == (WITNESSED - 4, WITNESSED - 5), report
    else:
        # A chain head names no entry: the alteration is somewhere up to the witnessed size.
        assert (report.position, report.witnessed) == (1, 0), report
        assert f"trusted checkpoint at size {WITNESSED}" in (report.problem or ""), report


async def test_swapped_signing_key_with_resigned_checkpoints_fails(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock, witness: WitnessFile
) -> None:
    await _witnessed_log(db, signer, clock, witness)
    trusted = read_checkpoints(witness.path)
    await _rewrite(db, _modify)
    other = CheckpointSigner.from_bytes(bytes(range(1, 33)))
    await write_checkpoint(db, other, ORIGIN, T0)
    # Trusting the attacker's key (the one found in the data directory) alone: it verifies.
    assert (await verify(db, public_keys(other.public_key))).ok
    # The auditor's key: the re-signed checkpoint is forged.
    forged = await verify(db, public_keys(signer.public_key), trusted=trusted)
    assert not forged.ok and "forged" in (forged.problem or "")
    # The attacker's key given as well: the witnessed head is not reproduced.
    both = public_keys(signer.public_key, other.public_key)
    report = await verify(db, both, trusted=trusted)
    assert not report.ok and "trusted checkpoint" in (report.problem or ""), report
    # A trusted checkpoint signed by a key the auditor does not trust is refused outright.
    assert not (await verify(db, public_keys(other.public_key), trusted=trusted)).ok


async def test_entries_past_the_last_witnessed_checkpoint_beyond_the_grace_fail(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock, witness: WitnessFile
) -> None:
    await _witnessed_log(db, signer, clock, witness)
    keys = public_keys(signer.public_key)
    first = read_checkpoints(witness.path)[:1]  # only the checkpoint at WITNESSED
    assert (await verify(db, keys, trusted=first, grace=TOTAL - WITNESSED)).ok
    report = await verify(db, keys, trusted=first, grace=TOTAL - WITNESSED - 1)
    assert not report.ok and report.position == WITNESSED + 1, report
    assert report.witnessed == WITNESSED
    # No trusted checkpoint at all: nothing is witnessed, every entry counts.
    assert not (await verify(db, keys, trusted=(), grace=TOTAL - 1)).ok


async def test_restart_checkpoints_and_witnesses_entries_a_crash_left_uncovered(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock, witness: WitnessFile
) -> None:
    crashed = AuditLog(db, signer, ORIGIN, clock=clock, checkpoint_every=10_000)
    await crashed.start()
    for n in range(5):
        await crashed.append(make_entry(n))
    # As after SIGKILL: no shutdown checkpoint (the writer task is dropped, not closed).
    assert crashed._task is not None
    crashed._task.cancel()
    restarted = AuditLog(db, signer, ORIGIN, clock=clock, witnesses=[witness])
    await restarted.start()
    try:
        assert [cp.size for cp in read_checkpoints(witness.path)] == [5]
    finally:
        await restarted.aclose()
