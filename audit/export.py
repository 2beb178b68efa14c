"""Exports for auditors: the entries of a time window, in seq order, as JSON lines or CSV.

JSON lines (lossless, verifiable): one object per entry, keys sorted, no spaces::

    {"entry":<canonical entry, byte for byte>,"head":"<hex>","leaf":"<hex>","seq":<n>}

The entry is embedded as stored, so ``SHA-256(0x00 ‖ entry bytes)`` gives back the leaf and
a full export can be re-verified outside the gateway. One exception keeps the file safe to
read: a control, format (bidirectional overrides and isolates, U+202A–U+202E, U+2066–U+2069,
marks), line or paragraph separator, private-use or unassigned character is written as its
JSON escape (``\u202e``). The value is the same; such an entry's bytes are given back by
parsing it and writing it canonically again (``AuditEntry.from_canonical(…).canonical()``).

CSV (for spreadsheets): one row per entry under a header; lists are joined with ``;``
(``denied`` items as ``field:reason``, ``details`` items as ``key=value``). The characters
above are shown as ``<U+202E>``, so that no cell breaks a line or reorders what the auditor
reads; then a cell that a spreadsheet would run as a formula (starting with ``= + - @``, tab
or carriage return) is prefixed with ``'``, since ``object`` and other values come from
clients.

Windows are ``[start, end)`` on the entries' times; either bound may be omitted.
:func:`export` may also take any :class:`audit.AuditFilter`. A window alone exports every
entry, those a later entry corrects included (the correction names them in its ``corrects``
detail), so that it verifies; a filter shows each correction in its entry's place, as the
readers do (:mod:`audit.folding`).

:func:`stream` gives the same text as an asynchronous iterator of pieces, for a web answer
that a slow reader may take long to read: each chunk is read in a short transaction of its
own, up to the last entry there was when it started, instead of one snapshot that would hold
SQLite's writers back for as long as the reader takes.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

from sqlalchemy import ColumnElement, func, select

from audit import tables
from audit.database import AuditDatabase
from audit.entry import AuditEntry, format_time

if TYPE_CHECKING:  # query imports this module for its readers
    from audit.query import AuditFilter

ExportFormat = Literal["jsonl", "csv"]

CHUNK = 2000
CSV_COLUMNS = (
    "seq", "id", "time", "kind", "client", "caller", "purpose", "recipient", "object",
    "legal_basis_title", "legal_basis_href", "person", "released", "denied", "agencies",
    "outcome", "policy_revision", "details", "leaf", "head",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def _neutralise(text: str, show: Callable[[int], str]) -> str:
    if text.isascii() and "\x7f" not in text and not any(c < " " for c in text):
        return text  # nearly every value: printable ASCII
    return "".join(show(ord(c)) if unicodedata.category(c) in _HIDDEN else c for c in text)


def _json_escape(code: int) -> str:
    if code > 0xFFFF:  # a UTF-16 surrogate pair, as JSON writes characters past the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _shown(code: int) -> str:
    return f"<U+{code:04X}>"


_E = tables.entries.c


def _conditions(
    start: datetime | None,
    end: datetime | None,
    filter: AuditFilter | None,
    upto: int | None = None,
) -> list[ColumnElement[bool]]:
    window: list[ColumnElement[bool]] = [] if filter is None else filter.conditions(upto)
    if start is not None:
        window.append(_E.time >= start)
    if end is not None:
        window.append(_E.time < end)
    return window


def _check(format: str) -> None:
    if format not in ("jsonl", "csv"):
        raise ValueError("the export format is jsonl or csv")


def _text(rows: Sequence[Any], format: ExportFormat) -> str:
    out = io.StringIO()
    if format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        for seq, canonical, leaf, head in rows:
            writer.writerow(_row(int(seq), bytes(canonical), bytes(leaf), bytes(head)))
    else:
        for seq, canonical, leaf, head in rows:
            out.write(_line(int(seq), bytes(canonical), bytes(leaf), bytes(head)))
    return out.getvalue()


def _header() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(CSV_COLUMNS)
    return out.getvalue()


async def export(
    db: AuditDatabase,
    out: TextIO,
    *,
    start: datetime | None,
    end: datetime | None,
    format: ExportFormat,
    chunk: int = CHUNK,
    filter: AuditFilter | None = None,
) -> int:
    """Write the window's entries (those ``filter`` selects, if given) to ``out``, from one
    snapshot; the number of entries written."""
    _check(format)
    window = _conditions(start, end, filter)
    if format == "csv":
        out.write(_header())
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
            out.write(_text(rows, format))
            written += len(rows)
            if len(rows) < chunk:
                return written
            last = int(rows[-1][0])


async def stream(
    db: AuditDatabase, filter: AuditFilter, format: ExportFormat, *, chunk: int = CHUNK
) -> AsyncIterator[str]:
    """The entries ``filter`` selects, in seq order, as pieces of text (the CSV header
    first); the log's entries appended after the first read are left out."""
    _check(format)
    async with db.connection() as conn:
        top = int((await conn.execute(select(func.max(_E.seq)))).scalar() or 0)
    # A correction appended meanwhile is past ``top``: its entry stays in, as it was.
    window = _conditions(None, None, filter, upto=top)
    if format == "csv":
        yield _header()
    last = 0
    while last < top:
        query = (
            select(_E.seq, _E.canonical, _E.leaf, _E.head)
            .where(_E.seq > last, _E.seq <= top, *window)
            .order_by(_E.seq)
            .limit(chunk)
        )
        async with db.connection() as conn:
            rows = (await conn.execute(query)).all()
        if rows:
            yield _text(rows, format)
        if len(rows) < chunk:
            return
        last = int(rows[-1][0])


def _line(seq: int, canonical: bytes, leaf: bytes, head: bytes) -> str:
    return (
        f'{{"entry":{_neutralise(canonical.decode(), _json_escape)},"head":"{head.hex()}",'
        f'"leaf":"{leaf.hex()}","seq":{seq}}}\n'
    )


def safe_cell(value: str | None) -> str:
    """A value as a spreadsheet cell shows it and never runs it (see the module's CSV)."""
    if value is None:
        return ""
    value = _neutralise(value, _shown)
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
    return [safe_cell(v) for v in values]
