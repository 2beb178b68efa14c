"""The journal as a spreadsheet opens it in France: the console's "tableur" export.

The CSV and JSON Lines exports are the log's own format (English column names, UTC, codes,
hashes to verify it outside the gateway). This one is for reading: columns named in French,
times in Paris time as ``jj/mm/aaaa hh:mm:ss``, organisations, purposes, natures, outcomes and
data categories in words; ``;`` between cells and a byte order mark, as a spreadsheet set up
for French opens a CSV file in columns with its accents; a cell a spreadsheet would run as a
formula is shown as text (``safe_cell``, the log's own CSV rule). The records come from
``Oversight.export_records``, which streams them from the JSON Lines export of the same search.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from exchange.oversight import Record, safe_cell
from gateway.console.words import (
    CALLERS,
    KINDS,
    OUTCOMES,
    PARIS,
    category,
    detail,
    field_name,
    reason,
)

COLUMNS = (
    "N°",
    "Date et heure (Paris)",
    "Nature",
    "Organisme",
    "Application",
    "Agissant",
    "Finalité",
    "Base légale",
    "Référence du dossier",
    "Destinataire (SIRET)",
    "Personne (pseudonyme d'audit)",
    "Issue",
    "Données transmises",
    "Données refusées",
    "Organismes interrogés",
    "Détails",
)
BOM = "\ufeff"


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def _field(catalogue: Any, field: str) -> str:
    name = field_name(field)
    label = category(catalogue, field)
    known = f"{name} ({field})" if name != field else field
    return f"{known}, {label}" if label else known


def row(record: Record, catalogue: Any) -> list[str]:
    """One entry's cells."""
    entry = record.entry
    values = [
        str(record.seq),
        entry.time.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S"),
        KINDS.get(entry.kind, entry.kind),
        record.organisation.name,
        entry.client,
        CALLERS.get(entry.caller, entry.caller),
        record.purpose_label or entry.purpose,
        entry.legal_basis[0] if entry.legal_basis else "",
        entry.object or "",
        entry.recipient or "",
        entry.person or "",
        OUTCOMES.get(entry.outcome, entry.outcome),
        ", ".join(_field(catalogue, f) for f in entry.released),
        ", ".join(f"{_field(catalogue, f)} : {reason(why)}" for f, why in entry.denied),
        ", ".join(entry.agencies),
        " ; ".join(" : ".join(detail(key, value)) for key, value in entry.details),
    ]
    return [safe_cell(v) for v in values]


async def spreadsheet(records: AsyncIterator[Record], catalogue: Any) -> AsyncIterator[bytes]:
    """The records with their header, as UTF-8 bytes, in pieces of up to 500 rows."""
    yield (BOM + _line(list(COLUMNS))).encode("utf-8")
    rows: list[str] = []
    async for record in records:
        rows.append(_line(row(record, catalogue)))
        if len(rows) == 500:
            yield "".join(rows).encode("utf-8")
            rows = []
    if rows:
        yield "".join(rows).encode("utf-8")
