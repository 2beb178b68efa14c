"""The append side: group commit, one chain, fail-closed, periodic and on-demand checkpoints."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select

from audit import (
    GENESIS,
    AuditDatabase,
    AuditLog,
    AuditUnavailable,
    CheckpointSigner,
    InvalidEntry,
    leaf_hash,
    next_head,
    public_keys,
    verify_checkpoint,
)
from audit import tables as t
from audit.verify import verify
from tests.audit.conftest import ORIGIN, Clock, make_entry


async def chain_rows(db: AuditDatabase) -> list[Any]:
    async with db.connection() as conn:
        query = select(t.entries.c.seq, t.entries.c.canonical, t.entries.c.leaf, t.entries.c.head)
        return list((await conn.execute(query.order_by(t.entries.c.seq))).all())


def assert_one_chain(rows: list[Any]) -> bytes:
    """seq 1..N dense, each leaf the hash of its bytes, each head chained on the previous."""
    head = GENESIS
    for position, row in enumerate(rows, start=1):
        assert row.seq == position
        assert bytes(row.leaf) == leaf_hash(bytes(row.canonical))
        head = next_head(head, bytes(row.leaf))
        assert bytes(row.head) == head
    return head


async def test_concurrent_appends_are_grouped_into_few_transactions(
    db: AuditDatabase, log: AuditLog
) -> None:
    receipts = await asyncio.gather(*(log.append(make_entry(n)) for n in range(1000)))
    assert sorted(r.seq for r in receipts) == list(range(1, 1001))
    assert log.appended == 1000
    assert 2 <= log.batches < 1000  # max_batch 500: at least two, and far fewer than entries
    rows = await chain_rows(db)
    assert len(rows) == 1000
    assert_one_chain(rows)
    by_seq = {row.seq: bytes(row.leaf) for row in rows}
    assert all(by_seq[r.seq] == r.leaf for r in receipts)
    report = await verify(db, {})
    assert (report.ok, report.size) == (True, 1000)


async def test_a_lone_append_returns_once_committed(db: AuditDatabase, log: AuditLog) -> None:
    receipt = await log.append(make_entry(1))
    assert receipt.seq == 1
    assert receipt.leaf == leaf_hash(make_entry(1).canonical())
    assert len(await chain_rows(db)) == 1


async def test_invalid_entry_fails_alone(log: AuditLog) -> None:
    with pytest.raises(InvalidEntry):
        await log.append(make_entry(1, purpose="\udc00"))
    assert (await log.append(make_entry(2))).seq == 1


async def _refuse_inserts(db: AuditDatabase, refuse: bool) -> None:
    """Make the database itself refuse new entries (a trigger), on either backend."""
    async with db.transaction() as conn:
        if db.backend == "sqlite":
            if refuse:
                await conn.exec_driver_sql(
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_entries "
                    "BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END"
                )
            else:
                await conn.exec_driver_sql("DROP TRIGGER refuse")
            return
        schema = f'"{db.schema}".' if db.schema else ""
        if refuse:
            await conn.exec_driver_sql(
                f"CREATE FUNCTION {schema}refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the disk is gone'; END $$"
            )
            await conn.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {schema}audit_entries "
                f"FOR EACH ROW EXECUTE FUNCTION {schema}refuse()"
            )
        else:
            await conn.exec_driver_sql(f"DROP TRIGGER refuse ON {schema}audit_entries")
            await conn.exec_driver_sql(f"DROP FUNCTION {schema}refuse()")


async def test_failed_write_fails_every_pending_append_and_writes_nothing(
    db: AuditDatabase, log: AuditLog
) -> None:
    await log.append(make_entry(0))
    await _refuse_inserts(db, True)
    try:
        outcomes = await asyncio.gather(
            *(log.append(make_entry(n)) for n in range(1, 201)), return_exceptions=True
        )
    finally:
        await _refuse_inserts(db, False)
    assert all(isinstance(o, AuditUnavailable) for o in outcomes)
    assert "disk" not in str(outcomes[0])
    rows = await chain_rows(db)
    assert [row.seq for row in rows] == [1]
    async with db.connection() as conn:
        size = (await conn.execute(select(t.head.c.size))).scalar_one()
    assert size == 1
    # The log recovers once the database does, and the chain goes on from where it was.
    assert (await log.append(make_entry(999))).seq == 2
    assert_one_chain(await chain_rows(db))


async def test_unreachable_database_fails_closed(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock)
    await log.start()
    if db.backend == "sqlite":
        # SQLite has no server to lose: the database refuses the write instead.
        await _refuse_inserts(db, True)
    else:
        await db.engine.dispose()

        def refuse(*_args: object) -> None:
            raise ConnectionRefusedError("no server")

        event.listen(db.engine.sync_engine, "do_connect", refuse)
    try:
        with pytest.raises(AuditUnavailable):
            await log.append(make_entry(1))
    finally:
        if db.backend == "sqlite":
            await _refuse_inserts(db, False)
        else:
            event.remove(db.engine.sync_engine, "do_connect", refuse)
    await log.aclose()


async def test_append_before_start_and_after_close_is_refused(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock)
    with pytest.raises(AuditUnavailable):
        await log.append(make_entry(1))
    await log.start()
    await log.aclose()
    with pytest.raises(AuditUnavailable):
        await log.append(make_entry(1))


async def test_close_flushes_queued_entries_and_checkpoints_them(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock, max_batch=7)
    await log.start()
    pending = [asyncio.ensure_future(log.append(make_entry(n))) for n in range(50)]
    await asyncio.sleep(0)
    await log.aclose()
    receipts = [await p for p in pending]
    assert sorted(r.seq for r in receipts) == list(range(1, 51))
    async with db.connection() as conn:
        sizes = (await conn.execute(select(t.checkpoints.c.size))).scalars().all()
    assert max(sizes) == 50


async def test_checkpoints_every_n_entries(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock, checkpoint_every=10, max_batch=5)
    await log.start()
    for n in range(25):
        await log.append(make_entry(n))
    async with db.connection() as conn:
        sizes = (await conn.execute(select(t.checkpoints.c.size))).scalars().all()
    await log.aclose()
    assert sorted(sizes) == [10, 20]


async def test_checkpoints_after_an_interval(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    log = AuditLog(db, signer, ORIGIN, clock=clock, checkpoint_interval=0.05)
    await log.start()
    await log.append(make_entry(1))
    for _ in range(100):
        await asyncio.sleep(0.02)
        async with db.connection() as conn:
            count = (await conn.execute(select(func.count()).select_from(t.checkpoints))).scalar()
        if count:
            break
    await log.aclose()
    assert count == 1


async def test_on_demand_checkpoint_signs_the_stored_head(
    db: AuditDatabase, log: AuditLog, signer: CheckpointSigner, clock: Clock
) -> None:
    empty = await log.checkpoint()
    assert (empty.size, empty.head) == (0, GENESIS)
    for n in range(3):
        await log.append(make_entry(n))
    clock.advance(minutes=5)
    checkpoint = await log.checkpoint()
    assert checkpoint.size == 3
    assert checkpoint.head == assert_one_chain(await chain_rows(db))
    assert checkpoint.signed_at == clock.now
    assert checkpoint.origin == ORIGIN
    assert verify_checkpoint(checkpoint, public_keys(signer.public_key))
    # Asked again at the same size, the stored checkpoint is returned, not a second one.
    clock.advance(minutes=5)
    assert await log.checkpoint() == checkpoint


async def test_sqlite_normal_sync_writes_the_same_chain(
    db: AuditDatabase, signer: CheckpointSigner, clock: Clock
) -> None:
    # PostgreSQL has no such mode: the option is ignored there, the chain the same.
    log = AuditLog(db, signer, ORIGIN, clock=clock, sqlite_synchronous="NORMAL")
    await log.start()
    try:
        await asyncio.gather(*(log.append(make_entry(n)) for n in range(50)))
    finally:
        await log.aclose()
    assert_one_chain(await chain_rows(db))
