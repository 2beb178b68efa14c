"""The auditors' filters on object, recipient, kind and a set of clients; filtered streaming
exports; the chain status and its tail check."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from audit import AuditFilter, AuditLog, AuditReader, Report, record_verification, tables
from audit.database import AuditDatabase
from tests.audit.conftest import T0, make_entry

OTHER_SIRET = "11000201100044"


async def _fill(log: AuditLog) -> AuditReader:
    for n in range(30):
        await log.append(
            make_entry(
                n,
                client=("caf-app", "cpam-app", "dept-app")[n % 3],
                object=f"CASE-{n % 4}",
                recipient=OTHER_SIRET if n % 5 == 0 else "13002526500013",
                kind="audit_query" if n % 6 == 0 else "person_access",
            )
        )
    return AuditReader(log._db)


async def _seqs(reader: AuditReader, flt: AuditFilter) -> list[int]:
    page = await reader.entries(flt, first=100)
    return [s.seq for s in page.items]


async def test_object_recipient_kind_and_clients(log: AuditLog) -> None:
    reader = await _fill(log)
    assert await _seqs(reader, AuditFilter(object="CASE-1")) == [
        s for s in range(30, 0, -1) if (s - 1) % 4 == 1
    ]
    assert await _seqs(reader, AuditFilter(recipient=OTHER_SIRET)) == [26, 21, 16, 11, 6, 1]
    assert await _seqs(reader, AuditFilter(kind="audit_query")) == [25, 19, 13, 7, 1]
    both = AuditFilter(clients=("caf-app", "dept-app"), object="CASE-0")
    expected = [s for s in range(30, 0, -1) if (s - 1) % 4 == 0 and (s - 1) % 3 != 1]
    assert await _seqs(reader, both) == expected
    assert await _seqs(reader, AuditFilter(clients=())) == []
    # Conditions are joined: a recipient and a kind that no entry has together give nothing.
    assert (
        await _seqs(reader, AuditFilter(recipient=OTHER_SIRET, object="CASE-3", kind="audit_query"))
        == []
    )
    assert await reader.seen("client", "cpam-app") and not await reader.seen("client", "nobody")


async def test_filtered_exports_stream_every_match(log: AuditLog) -> None:
    reader = await _fill(log)
    flt = AuditFilter(object="CASE-2", start=T0 + timedelta(seconds=5))
    pieces = [p async for p in reader.export(flt, "jsonl")]
    seqs = [json.loads(line)["seq"] for line in "".join(pieces).splitlines()]
    assert seqs == [s for s in range(7, 31) if (s - 1) % 4 == 2]
    csv_text = "".join([p async for p in reader.export(flt, "csv")])
    lines = csv_text.splitlines()
    assert lines[0].startswith("seq,id,time") and len(lines) == len(seqs) + 1


async def test_exports_stop_at_the_entries_there_were(log: AuditLog) -> None:
    await _fill(log)
    from audit.export import stream

    pieces = stream(log._db, AuditFilter(), "jsonl", chunk=10)
    first = await anext(pieces)
    await log.append(make_entry(100))
    rest = [p async for p in pieces]
    seqs = [json.loads(line)["seq"] for line in (first + "".join(rest)).splitlines()]
    assert seqs == list(range(1, 31))


async def test_chain_status_checks_the_tail_and_keeps_verifications(log: AuditLog) -> None:
    reader = await _fill(log)
    status = await reader.chain_status()
    assert status.size == 30 and status.last_checkpoint is None and status.last_verification is None
    assert (status.tail.ok, status.tail.start, status.tail.end) == (True, 0, 30)
    checkpoint = await log.checkpoint()
    for n in range(30, 35):
        await log.append(make_entry(n))
    status = await reader.chain_status()
    assert status.last_checkpoint is not None and status.last_checkpoint.size == checkpoint.size
    assert (status.tail.ok, status.tail.start, status.tail.end) == (True, 30, 35)
    assert (await reader.chain_status(tail=2)).tail.start == 33
    await record_verification(log._db, Report(True, 35, 1, None, None, 30), T0)
    last = (await reader.chain_status()).last_verification
    assert last is not None and (last.ok, last.size, last.witnessed) == (True, 35, 30)


async def test_tail_check_finds_an_entry_altered_since_the_checkpoint(log: AuditLog) -> None:
    reader = await _fill(log)
    await log.checkpoint()
    for n in range(30, 35):
        await log.append(make_entry(n))
    db: AuditDatabase = log._db
    forged = make_entry(32, person="someone-else").canonical()
    async with db.transaction() as conn:
        await conn.execute(
            update(tables.entries).where(tables.entries.c.seq == 33).values(canonical=forged)
        )
    tail = (await reader.chain_status()).tail
    assert not tail.ok and tail.problem is not None and "entry 33" in tail.problem
    # Before the checkpoint, outside the tail: the full verification's to find.
    async with db.transaction() as conn:
        await conn.execute(
            update(tables.entries)
            .where(tables.entries.c.seq == 33)
            .values(canonical=make_entry(32).canonical())
        )
    assert (await reader.chain_status()).tail.ok


async def test_cosignatures_come_from_the_witness_file(log: AuditLog, tmp_path: Path) -> None:
    import base64

    await _fill(log)
    cp = await log.checkpoint()
    path = tmp_path / "witness.jsonl"
    head = base64.b64encode(cp.head).decode()
    lines = [
        {
            "cosignature": {
                "witness": "witness.test",
                "key_id": "k",
                "time": 1,
                "signature": "AA==",
            },
            "size": cp.size,
            "head": head,
        },
        {
            "cosignature": {"witness": "stale.test", "key_id": "k", "time": 1, "signature": "AA=="},
            "size": cp.size - 1,
            "head": head,
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"torn', encoding="utf-8")
    status = await AuditReader(log._db, witness_file=path).chain_status()
    assert status.last_checkpoint is not None
    assert status.last_checkpoint.cosigned_by == ("witness.test",)
    missing = await AuditReader(log._db, witness_file=tmp_path / "none").chain_status()
    assert missing.last_checkpoint is not None and missing.last_checkpoint.cosigned_by == ()
