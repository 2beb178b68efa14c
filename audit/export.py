"""Exports for auditors: the entries of a time window, in seq order, as JSON lines or CSV.

JSON lines (lossless, verifiable): one object per entry, keys sorted, no spaces::

    {"entry":<canonical entry, byte for byte>,"head":"<hex>","leaf":"<hex>","seq":<n>}

The entry is embedded as stored, so ``SHA-256(0x00 ‖ entry bytes)`` gives back the leaf and
a full export can be re-verified outside the gateway.

CSV (for spreadsheets): one row per entry under a header; lists are joined with ``;``
(``denied`` items as ``field:reason``, ``details`` items as ``key=value``). A cell that a
spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return) is
prefixed with ``'``, since ``object`` and other values come from clients.

Windows are ``[start, end)`` on the entries' times; either bound may be omitted.
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Literal, TextIO

from sqlalchemy import ColumnElement, select

from audit import tables
from audit.database import AuditDatabase
from audit.entry import AuditEntry, format_time

CHUNK = 2000
CSV_COLUMNS = (
    "seq", "id", "time", "kind", "client", "caller", "purpose", "recipient", "object",
    "legal_basis_title", "legal_basis_href", "person", "released", "denied", "agencies",
    "outcome", "policy_revision", "details", "leaf", "head",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_E = tables.entries.c


async def export(
    db: AuditDatabase,
    out: TextIO,
    *,
    start: datetime | None,
    end: datetime | None,
    format: Literal["jsonl", "csv"],
    chunk: int = CHUNK,
) -> int:
    """Write the window's entries to ``out``; the number of entries written."""
    if format not in ("jsonl", "csv"):
        raise ValueError("the export format is jsonl or csv")
    window: list[ColumnElement[bool]] = []
    if start is not None:
        window.append(_E.time >= start)
    if end is not None:
        window.append(_E.time < end)
    writer = None
    if format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
    written = 0
    last = 0
    async with db.snapshot() as conn:
        while True:
            query = (
                select(_E.seq, _E.canonical, _E.leaf, _E.head)
                .where(_E.seq > last, *window)
                .order_by(_E.seq)
                .limit(chunk)
            )
            rows = (await conn.execute(query)).all()
            for seq, canonical, leaf, head in rows:
                if writer is None:
                    out.write(_line(int(seq), bytes(canonical), bytes(leaf), bytes(head)))
                else:
                    writer.writerow(_row(int(seq), bytes(canonical), bytes(leaf), bytes(head)))
            written += len(rows)
            if len(rows) < chunk:
                return written
            last = int(rows[-1][0])


def _line(seq: int, canonical: bytes, leaf: bytes, head: bytes) -> str:
    return (
        f'{{"entry":{canonical.decode()},"head":"{head.hex()}",'
        f'"leaf":"{leaf.hex()}","seq":{seq}}}\n'
    )


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return f"'{value}" if value.startswith(_FORMULA) else value


def _row(seq: int, canonical: bytes, leaf: bytes, head: bytes) -> list[str]:
    e = AuditEntry.from_canonical(canonical)
    title, href = e.legal_basis if e.legal_basis is not None else (None, None)
    values = [
        str(seq),
        e.id,
        format_time(e.time),
        e.kind,
        e.client,
        e.caller,
        e.purpose,
        e.recipient,
        e.object,
        title,
        href,
        e.person,
        ";".join(e.released),
        ";".join(f"{field}:{reason}" for field, reason in e.denied),
        ";".join(e.agencies),
        e.outcome,
        e.policy_revision,
        ";".join(f"{key}={value}" for key, value in e.details),
        leaf.hex(),
        head.hex(),
    ]
    return [_cell(v) for v in values]
