"""Exports: JSON lines that re-verify outside the gateway, CSV for spreadsheets; windows."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from audit import GENESIS, AuditEntry, AuditLog, leaf_hash, next_head
from audit.database import AuditDatabase
from audit.export import CSV_COLUMNS, export
from tests.audit.conftest import T0, make_entry

ENTRIES = [make_entry(n, time=T0 + timedelta(minutes=n)) for n in range(30)]


@pytest.fixture
async def filled(log: AuditLog, db: AuditDatabase) -> AuditDatabase:
    for entry in ENTRIES:
        await log.append(entry)
    return db


async def test_jsonl_holds_each_canonical_entry_and_its_hashes(filled: AuditDatabase) -> None:
    out = io.StringIO()
    assert await export(filled, out, start=None, end=None, format="jsonl", chunk=7) == 30
    lines = out.getvalue().splitlines()
    assert len(lines) == 30
    head = GENESIS
    for seq, (line, entry) in enumerate(zip(lines, ENTRIES, strict=True), start=1):
        record = json.loads(line)
        assert list(record) == ["entry", "head", "leaf", "seq"] and record["seq"] == seq
        # The entry bytes as stored: the leaf can be recomputed from the export alone.
        embedded = line[len('{"entry":') : line.index(',"head":')].encode()
        assert embedded == entry.canonical()
        assert AuditEntry.from_canonical(embedded) == entry
        assert record["leaf"] == leaf_hash(embedded).hex()
        head = next_head(head, bytes.fromhex(record["leaf"]))
        assert record["head"] == head.hex()


async def test_csv_has_flat_columns(filled: AuditDatabase) -> None:
    out = io.StringIO()
    assert await export(filled, out, start=None, end=None, format="csv") == 30
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 30
    assert tuple(rows[0]) == CSV_COLUMNS
    for seq, (row, entry) in enumerate(zip(rows, ENTRIES, strict=True), start=1):
        assert row["seq"] == str(seq) and row["id"] == entry.id
        assert row["time"] == entry.time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        assert row["client"] == entry.client and row["person"] == entry.person
        assert row["released"].split(";") == list(entry.released)
        assert row["denied"] == "tax_income:not_needed_for_purpose"
        assert row["agencies"] == "cnaf;insee"
        assert entry.legal_basis == (row["legal_basis_title"], row["legal_basis_href"])
        assert row["details"] == ""
        assert row["leaf"] == leaf_hash(entry.canonical()).hex()


async def test_window_is_start_inclusive_end_exclusive(filled: AuditDatabase) -> None:
    for fmt in ("jsonl", "csv"):
        out = io.StringIO()
        count = await export(
            filled,
            out,
            start=T0 + timedelta(minutes=10),
            end=T0 + timedelta(minutes=20),
            format=fmt,  # type: ignore[arg-type]
        )
        assert count == 10
        seqs = (
            [json.loads(line)["seq"] for line in out.getvalue().splitlines()]
            if fmt == "jsonl"
            else [int(r["seq"]) for r in csv.DictReader(io.StringIO(out.getvalue()))]
        )
        assert seqs == list(range(11, 21))


async def test_csv_defuses_spreadsheet_formulas(log: AuditLog, db: AuditDatabase) -> None:
    await log.append(make_entry(1, object='=HYPERLINK("http://x")', details=(("k", "v;w"),)))
    out = io.StringIO()
    await export(db, out, start=None, end=None, format="csv")
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["object"] == '\'=HYPERLINK("http://x")'
    assert row["details"] == "k=v;w"


async def test_unknown_format_is_refused(db: AuditDatabase) -> None:
    with pytest.raises(ValueError):
        await export(db, io.StringIO(), start=None, end=None, format="xml")  # type: ignore[arg-type]


# A line break, a C1 control, bidi overrides and isolates, a line separator: each would split
# a line or reorder what an auditor reads. Entries written before the context refused them
# (or through values other than ``object``) can still hold them.
HOSTILE = "a\nb\x85c\u202ed\u2066e\u2028f\u200fg\x7fh"
NEUTRALISED = {"\n", "\x85", "\u202e", "\u2066", "\u2028", "\u200f", "\x7f"}


async def test_jsonl_escapes_control_and_bidi_characters_and_still_verifies(
    log: AuditLog, db: AuditDatabase
) -> None:
    entry = make_entry(1, object=HOSTILE, details=(("note", "x\u202cy"),))
    await log.append(entry)
    out = io.StringIO()
    await export(db, out, start=None, end=None, format="jsonl")
    text = out.getvalue()
    assert text.count("\n") == 1 and not NEUTRALISED & set(text[:-1]) and "\u202c" not in text
    line = text.splitlines()[0]
    record = json.loads(line)
    assert record["entry"]["object"] == HOSTILE  # the same value, written as JSON escapes
    embedded = line[len('{"entry":') : line.index(',"head":')].encode()
    restored = AuditEntry.from_canonical(embedded)
    assert restored == entry
    assert leaf_hash(restored.canonical()).hex() == record["leaf"]


async def test_csv_neutralises_control_and_bidi_characters(
    log: AuditLog, db: AuditDatabase
) -> None:
    await log.append(make_entry(1, object=HOSTILE))
    await log.append(make_entry(2, object="\n=1+1"))
    out = io.StringIO()
    await export(db, out, start=None, end=None, format="csv")
    text = out.getvalue()
    assert not NEUTRALISED & set(text.replace("\n", "")) and text.count("\n") == 3
    first, second = csv.DictReader(io.StringIO(text))
    assert first["object"] == "a<U+000A>b<U+0085>c<U+202E>d<U+2066>e<U+2028>f<U+200F>g<U+007F>h"
    assert second["object"] == "<U+000A>=1+1"
