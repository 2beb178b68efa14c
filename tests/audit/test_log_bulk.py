"""``AuditLog.append_many``: a campaign's batch of entries in one transaction, chained exactly
as the same entries appended one by one, all or none."""

from __future__ import annotations

import asyncio

from audit import (
    GENESIS,
    AuditDatabase,
    AuditEntry,
    AuditLog,
    AuditUnavailable,
    leaf_hash,
    next_head,
)
from audit.verify import verify
from tests.audit.conftest import make_entry
from tests.audit.test_log import _refuse_inserts, assert_one_chain, chain_rows


async def test_a_bulk_append_chains_as_sequential_appends_would(
    db: AuditDatabase, log: AuditLog
) -> None:
    entries = [make_entry(n) for n in range(1, 301)]
    await log.append(make_entry(0))
    receipts = await log.append_many(entries)
    assert [r.seq for r in receipts] == list(range(2, 302))
    # Each entry its own leaf, in the order given.
    assert [r.leaf for r in receipts] == [leaf_hash(e.canonical()) for e in entries]
    rows = await chain_rows(db)
    head = assert_one_chain(rows)
    # The same entries appended one at a time give the same chain, head for head.
    assert [bytes(r.canonical) for r in rows] == [
        make_entry(0).canonical(),
        *(e.canonical() for e in entries),
    ]
    assert head == _sequential_head([make_entry(0), *entries])
    report = await verify(db, {})
    assert (report.ok, report.size) == (True, 301)


async def test_a_bulk_append_is_one_transaction_even_above_max_batch(
    db: AuditDatabase, log: AuditLog
) -> None:
    before = log.batches
    receipts = await log.append_many([make_entry(n) for n in range(700)])  # max_batch is 500
    assert [r.seq for r in receipts] == list(range(1, 701))
    assert log.batches == before + 1


async def test_bulk_and_single_appends_interleave_in_one_chain(
    db: AuditDatabase, log: AuditLog
) -> None:
    groups = [[make_entry(100 * g + n) for n in range(50)] for g in range(6)]
    singles = [make_entry(10_000 + n) for n in range(40)]
    got = await asyncio.gather(
        *(log.append_many(g) for g in groups), *(log.append(e) for e in singles)
    )
    parts = [p for p in got if isinstance(p, list)]
    bulk = [r for part in parts for r in part]
    for part in parts:
        seqs = [r.seq for r in part]
        assert seqs == list(range(seqs[0], seqs[0] + 50))  # a group is never split
    assert len(bulk) + len(singles) == 340
    assert_one_chain(await chain_rows(db))
    assert (await verify(db, {})).ok


async def test_a_failed_bulk_append_writes_none_and_keeps_what_was_acknowledged(
    db: AuditDatabase, log: AuditLog
) -> None:
    acknowledged = await log.append_many([make_entry(n) for n in range(10)])
    await _refuse_inserts(db, True)
    try:
        failed = await asyncio.gather(
            log.append_many([make_entry(n) for n in range(10, 60)]), return_exceptions=True
        )
    finally:
        await _refuse_inserts(db, False)
    assert isinstance(failed[0], AuditUnavailable)
    rows = await chain_rows(db)
    assert [row.seq for row in rows] == [r.seq for r in acknowledged]
    # The chain goes on after the acknowledged entries.
    again = await log.append_many([make_entry(n) for n in range(60, 65)])
    assert [r.seq for r in again] == [11, 12, 13, 14, 15]
    assert_one_chain(await chain_rows(db))
    assert (await verify(db, {})).ok


async def test_an_empty_bulk_append_writes_nothing(db: AuditDatabase, log: AuditLog) -> None:
    assert await log.append_many([]) == []
    assert await chain_rows(db) == []


def _sequential_head(entries: list[AuditEntry]) -> bytes:
    head = GENESIS
    for entry in entries:
        head = next_head(head, leaf_hash(entry.canonical()))
    return head
