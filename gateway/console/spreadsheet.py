"""The journal as a spreadsheet opens it in France: the console's "tableur" export.

The CSV and JSON Lines exports are the log's own format (English column names, UTC, codes,
hashes to verify it outside the gateway). This one is for reading: columns named in French,
times in Paris time as ``jj/mm/aaaa hh:mm:ss``, organisations, purposes, natures, outcomes and
data categories in words; ``;`` between cells and a byte order mark, as a spreadsheet set up
for French opens a CSV file in columns with its accents; a cell a spreadsheet would run as a
formula is shown as text (``audit.export.safe_cell``). It is made from the JSON Lines export
of the same search, row by row as it streams.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping

import orjson

from audit import AuditEntry
from audit.export import safe_cell
from exchange.oversight import OWN_PURPOSES, PERSON_THEMSELVES, Oversight
from gateway.console.words import CALLERS, KINDS, OUTCOMES, PARIS, reason
from policies import Catalogue

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


def _category(catalogue: Catalogue, field: str) -> str:
    if field not in catalogue.fields:
        return field
    return f"{field} ({catalogue.categories[catalogue.category_of(field)].label})"


def row(seq: int, entry: AuditEntry, catalogue: Catalogue, oversight: Oversight) -> list[str]:
    """One entry's cells."""
    if entry.caller == "citizen":
        organisation = PERSON_THEMSELVES
    else:
        organisation = oversight.organisation(entry.client).name
    purpose = catalogue.purposes.get(entry.purpose)
    label = purpose.label if purpose else OWN_PURPOSES.get(entry.purpose, entry.purpose)
    values = [
        str(seq),
        entry.time.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S"),
        KINDS.get(entry.kind, entry.kind),
        organisation,
        entry.client,
        CALLERS.get(entry.caller, entry.caller),
        label,
        entry.legal_basis[0] if entry.legal_basis else "",
        entry.object or "",
        entry.recipient or "",
        entry.person or "",
        OUTCOMES.get(entry.outcome, entry.outcome),
        ", ".join(_category(catalogue, f) for f in entry.released),
        ", ".join(f"{_category(catalogue, f)} : {reason(why)}" for f, why in entry.denied),
        ", ".join(entry.agencies),
        ", ".join(f"{key} = {value}" for key, value in entry.details),
    ]
    return [safe_cell(v) for v in values]


async def spreadsheet(
    lines: AsyncIterator[str], catalogue: Catalogue, oversight: Oversight
) -> AsyncIterator[bytes]:
    """The rows of the JSON Lines export ``lines``, with their header, as UTF-8 bytes."""
    yield (BOM + _line(list(COLUMNS))).encode("utf-8")
    pending = ""
    async for piece in lines:
        pending += piece
        *complete, pending = pending.split("\n")
        chunk = [_converted(line, catalogue, oversight) for line in complete if line]
        if chunk:
            yield "".join(chunk).encode("utf-8")
    if pending.strip():
        yield _converted(pending, catalogue, oversight).encode("utf-8")


def _converted(line: str, catalogue: Catalogue, oversight: Oversight) -> str:
    document: Mapping[str, object] = orjson.loads(line)
    entry = AuditEntry.from_canonical(orjson.dumps(document["entry"]))
    seq = document["seq"]
    assert isinstance(seq, int)  # the export's own key (audit.export)
    return _line(row(seq, entry, catalogue, oversight))
