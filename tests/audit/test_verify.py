"""Tamper tests: the log is altered directly in the database, as someone with write access to
it would, and ``verify`` must name the first bad position. Each case runs on both backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import (
    AuditDatabase,
    AuditEntry,
    AuditLog,
    CheckpointSigner,
    leaf_hash,
    next_head,
    public_keys,
)
from audit import tables as t
from audit.verify import verify
from tests.audit.conftest import ORIGIN, Clock, make_entry

N = 20
K = 7


@pytest.fixture
def keys(signer: CheckpointSigner) -> dict[str, object]:
    return public_keys(signer.public_key)  # type: ignore[return-value]


async def fill(log: AuditLog, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        await log.append(make_entry(n))


async def head_at(conn: AsyncConnection, seq: int) -> bytes:
    if seq == 0:
        return bytes(32)
    query = select(t.entries.c.head).where(t.entries.c.seq == seq)
    return bytes((await conn.execute(query)).scalar_one())


async def renumber(conn: AsyncConnection, from_seq: int, by: int) -> None:
    """Shift seq ≥ from_seq by ``by``, through negative values so that no key collides."""
    rows = t.entries.c.seq >= from_seq
    await conn.execute(update(t.entries).where(rows).values(seq=-t.entries.c.seq))
    negative = t.entries.c.seq < 0
    await conn.execute(update(t.entries).where(negative).values(seq=-t.entries.c.seq + by))


async def stored_entry(conn: AsyncConnection, seq: int) -> AuditEntry:
    query = select(t.entries.c.canonical).where(t.entries.c.seq == seq)
    return AuditEntry.from_canonical(bytes((await conn.execute(query)).scalar_one()))


async def test_an_untouched_log_verifies(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    report = await verify(db, keys)
    assert report.ok and report.size == 0 and report.position is None
    await fill(log, 5)
    await log.checkpoint()
    await fill(log, 5, start=5)
    await log.checkpoint()
    report = await verify(db, keys, chunk=3)  # chunk boundaries inside the walk
    assert report.ok, report.problem
    assert (report.size, report.checked_checkpoints, report.problem) == (10, 2, None)


async def test_modified_content(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        entry = await stored_entry(conn, K)
        forged = replace(entry, client="someone-else").canonical()
        await conn.execute(update(t.entries).where(t.entries.c.seq == K).values(canonical=forged))
    report = await verify(db, keys, chunk=4)
    assert (report.ok, report.position, report.size) == (False, K, K - 1)
    assert "leaf" in (report.problem or "")


async def test_modified_filter_column(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        await conn.execute(update(t.entries).where(t.entries.c.seq == K).values(person="other"))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, K)
    assert "person column" in (report.problem or "")


async def test_modified_and_rehashed_is_caught_by_the_checkpoint(
    db: AuditDatabase, log: AuditLog, keys: dict
) -> None:
    await fill(log, K - 1)
    await log.checkpoint()
    await fill(log, N - K + 1, start=K - 1)
    await log.checkpoint()
    async with db.transaction() as conn:
        # The careful forger: new bytes, their leaf, every later head, and the head row.
        head = await head_at(conn, K - 1)
        for seq in range(K, N + 1):
            entry = await stored_entry(conn, seq)
            if seq == K:
                entry = replace(entry, client="someone-else")
            canonical = entry.canonical()
            leaf = leaf_hash(canonical)
            head = next_head(head, leaf)
            values = {"canonical": canonical, "leaf": leaf, "head": head, "client": entry.client}
            await conn.execute(update(t.entries).where(t.entries.c.seq == seq).values(**values))
        await conn.execute(update(t.head).values(head=head))
    report = await verify(db, keys)
    assert (report.ok, report.position, report.checked_checkpoints) == (False, K, 1)
    assert "checkpoint at size 20" in (report.problem or "")


async def test_deleted_entry(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        await conn.execute(delete(t.entries).where(t.entries.c.seq == K))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, K)
    assert "missing" in (report.problem or "")


async def test_deleted_entry_with_renumbering(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        await conn.execute(delete(t.entries).where(t.entries.c.seq == K))
        await renumber(conn, K + 1, -1)
        await conn.execute(update(t.head).values(size=N - 1))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, K)
    assert "chain breaks" in (report.problem or "")


@pytest.mark.parametrize("chained", [True, False])
async def test_inserted_entry(db: AuditDatabase, log: AuditLog, keys: dict, chained: bool) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        await renumber(conn, K, +1)
        forged = make_entry(1000, person="pseudo-victim")
        canonical = forged.canonical()
        leaf = leaf_hash(canonical)
        # Chained: the forged row's own head is right; only the next entry gives it away.
        head = next_head(await head_at(conn, K - 1), leaf) if chained else bytes(32)
        row = {
            "seq": K,
            "id": forged.id,
            "time": forged.time,
            "kind": forged.kind,
            "client": forged.client,
            "purpose": forged.purpose,
            "object": forged.object,
            "recipient": forged.recipient,
            "person": forged.person,
            "outcome": forged.outcome,
            "denials": forged.denials,
            "canonical": canonical,
            "leaf": leaf,
            "head": head,
        }
        await conn.execute(insert(t.entries).values(**row))
        await conn.execute(update(t.head).values(size=N + 1))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, K)
    if chained:
        assert "inserted" in (report.problem or "")


async def test_swapped_entries(db: AuditDatabase, log: AuditLog, keys: dict) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        entries = t.entries.c.seq
        await conn.execute(update(t.entries).where(entries == K).values(seq=-1))
        await conn.execute(update(t.entries).where(entries == K + 3).values(seq=K))
        await conn.execute(update(t.entries).where(entries == -1).values(seq=K + 3))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, K)


@pytest.mark.parametrize("fix_head_row", [True, False])
async def test_truncated_after_a_checkpoint(
    db: AuditDatabase, log: AuditLog, keys: dict, fix_head_row: bool
) -> None:
    await fill(log, N)
    await log.checkpoint()
    m = 3
    async with db.transaction() as conn:
        await conn.execute(delete(t.entries).where(t.entries.c.seq > N - m))
        if fix_head_row:
            head = await head_at(conn, N - m)
            await conn.execute(update(t.head).values(size=N - m, head=head))
    report = await verify(db, keys)
    assert (report.ok, report.position, report.size) == (False, N - m + 1, N - m)
    assert "truncated" in (report.problem or "")


async def test_truncated_without_checkpoint_is_caught_by_the_head_row(
    db: AuditDatabase, log: AuditLog, keys: dict
) -> None:
    await fill(log, N)
    async with db.transaction() as conn:
        await conn.execute(delete(t.entries).where(t.entries.c.seq > N - 2))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, N - 1)


@pytest.mark.parametrize("how", ["signature", "size", "unknown key"])
async def test_forged_checkpoint(
    db: AuditDatabase, log: AuditLog, keys: dict, clock: Clock, how: str
) -> None:
    await fill(log, N)
    checkpoint = await log.checkpoint()
    async with db.transaction() as conn:
        match how:
            case "signature":
                changed = {"signature": bytes(64)}
            case "size":
                changed = {"size": N - 1}
            case _:
                intruder = CheckpointSigner.from_bytes(b"\x07" * 32)
                other = intruder.sign(ORIGIN, checkpoint.size, checkpoint.head, clock())
                changed = {"key_id": other.key_id, "signature": other.signature}
        await conn.execute(update(t.checkpoints).values(**changed))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, None)
    assert "forged" in (report.problem or "")
