"""An entry a later entry corrects: kept and verified in the chain, shown as its correction
by every reader (pages, statistics, anomalies, filtered exports), on both backends."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import update

from audit import (
    CORRECTS,
    AnomalyRules,
    AuditEntry,
    AuditFilter,
    AuditLog,
    AuditReader,
    CheckpointSigner,
    export,
    public_keys,
    verify,
)
from audit import tables as t
from audit.database import AuditDatabase
from tests.audit.conftest import T0, make_entry

DAY = timedelta(days=1)


def expected_and_correction(n: int) -> tuple[AuditEntry, AuditEntry]:
    """An access's entry written while the agencies were called, and its correction: one
    agency failed, so one field more is denied and one fewer released."""
    expected = make_entry(n, released=("identity", "rsa_status"), outcome="partial")
    correction = replace(
        expected,
        id=f"{expected.id}-c",
        time=expected.time + timedelta(milliseconds=30),
        released=("identity",),
        denied=(*expected.denied, ("rsa_status", "UPSTREAM_TIMEOUT")),
        details=((CORRECTS, expected.id),),
    )
    return expected, correction


async def _fill(log: AuditLog, accesses: int) -> list[AuditEntry]:
    """``accesses`` corrected accesses, then one access nobody corrects."""
    written: list[AuditEntry] = []
    for n in range(accesses):
        written += expected_and_correction(n)
    written.append(make_entry(100))
    for entry in written:
        await log.append(entry)
    return written


async def test_pages_show_the_correction_in_place_of_the_entry(log: AuditLog) -> None:
    written = await _fill(log, 2)
    reader = AuditReader(log._db)
    page = await reader.entries(AuditFilter())
    ids = [item.entry.id for item in page.items]
    assert ids == [written[4].id, written[3].id, written[1].id]
    assert [item.seq for item in page.items] == [5, 4, 2]
    # A filter on what the first entry said finds nothing: it is not what happened.
    by_outcome = await reader.entries(AuditFilter(person=written[0].person, outcome="partial"))
    assert [i.entry.corrects for i in by_outcome.items] == [written[0].id]


async def test_statistics_count_an_access_once(log: AuditLog) -> None:
    await _fill(log, 2)
    stats = await AuditReader(log._db).stats(T0, T0 + DAY)
    assert sum(d.count for d in stats.accesses) == 3
    assert sum(d.count for d in stats.denials) == 3  # every one denies tax_income


async def test_anomalies_count_an_access_once(log: AuditLog) -> None:
    await _fill(log, 1)  # two accesses with denials; four entries with denials, unfolded
    rules = AnomalyRules(denials_per_day=3)
    assert await AuditReader(log._db).anomalies(T0, T0 + DAY, rules) == ()
    await log.append(make_entry(101))  # the third
    (found,) = await AuditReader(log._db).anomalies(T0, T0 + DAY, rules)
    assert (found.rule, found.count) == ("repeated_denials", 3)


async def test_a_window_exports_every_entry_and_a_filter_folds(log: AuditLog) -> None:
    written = await _fill(log, 1)
    out = io.StringIO()
    count = await export(log._db, out, start=None, end=None, format="jsonl")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 3 and [line["seq"] for line in lines] == [1, 2, 3]  # verifiable whole
    assert lines[1]["entry"]["details"] == [[CORRECTS, written[0].id]]
    folded = io.StringIO()
    count = await export(
        log._db, folded, start=None, end=None, format="jsonl", filter=AuditFilter()
    )
    assert count == 2 and [json.loads(x)["seq"] for x in folded.getvalue().splitlines()] == [2, 3]


async def test_the_corrects_column_is_verified(
    db: AuditDatabase, log: AuditLog, signer: CheckpointSigner
) -> None:
    written = await _fill(log, 1)
    keys = public_keys(signer.public_key)
    report = await verify(db, keys)
    assert report.ok, report.problem
    async with db.connection() as conn:
        column = (await conn.execute(t.entries.select().where(t.entries.c.seq == 2))).one()
    assert column.corrects == written[0].id
    # Hiding an access behind a correction that its bytes do not say is caught.
    async with db.transaction() as conn:
        await conn.execute(update(t.entries).where(t.entries.c.seq == 3).values(corrects="x"))
    report = await verify(db, keys)
    assert (report.ok, report.position) == (False, 3)
    assert "corrects column" in (report.problem or "")


async def test_a_correction_written_during_an_export_leaves_its_entry_in(log: AuditLog) -> None:
    from audit.export import stream

    expected, correction = expected_and_correction(0)
    await log.append(make_entry(100))
    await log.append(expected)
    pieces = stream(log._db, AuditFilter(), "jsonl", chunk=1)
    first = await anext(pieces)
    await log.append(correction)  # past the size the export started at
    rest = [piece async for piece in pieces]
    seqs = [json.loads(line)["seq"] for line in (first + "".join(rest)).splitlines()]
    assert seqs == [1, 2]  # the access is in the export, as the log was when it started


async def test_the_consoles_tail_check_reads_the_corrects_column(log: AuditLog) -> None:
    written = await _fill(log, 1)
    reader = AuditReader(log._db)
    assert (await reader.chain_status()).tail.ok
    # Hiding the last access behind a correction its bytes do not name.
    async with log._db.transaction() as conn:
        await conn.execute(
            update(t.entries).where(t.entries.c.seq == 2).values(corrects=written[2].id)
        )
    tail = (await reader.chain_status()).tail
    assert not tail.ok and "entry 2 was altered: its corrects column" in (tail.problem or "")
    async with log._db.transaction() as conn:
        await conn.execute(update(t.entries).where(t.entries.c.seq == 2).values(corrects=None))
    assert not (await reader.chain_status()).tail.ok  # the correction's own column, emptied
