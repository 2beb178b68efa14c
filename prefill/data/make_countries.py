"""Writes ``insee_countries.csv`` (INSEE country code → ISO 3166-1 alpha-2) from INSEE's COG.

Reads INSEE's "pays et territoires étrangers" file of the Code officiel géographique, either
as INSEE publishes it (columns ``COG``, ``ACTUAL``, ``LIBCOG``, ``CODEISO2``) or as the
republication named in README.md (``code``, ``actual_id``, ``name``, ``iso2_code``), and keeps
the codes that have an ISO alpha-2 code::

    python prefill/data/make_countries.py v_pays_territoire_2025.csv > insee_countries.csv
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator

_COLUMNS = (
    ("COG", "ACTUAL", "LIBCOG", "CODEISO2"),
    ("code", "actual_id", "name", "iso2_code"),
)


def rows(lines: Iterable[str]) -> Iterator[tuple[str, str, str, str]]:
    """(INSEE code, ISO alpha-2, kind, name) for every code that has an ISO code."""
    reader = csv.DictReader(lines)
    fields = reader.fieldnames or []
    columns = next((c for c in _COLUMNS if set(c) <= set(fields)), None)
    if columns is None:
        raise SystemExit(f"not a COG country file: columns {fields}")
    code, actual, name, iso2 = columns
    for row in reader:
        if row[iso2]:
            # ACTUAL 1: a country; 4: a territory with its own code (Hong Kong, Greenland…).
            kind = "country" if row[actual] == "1" else "territory"
            yield row[code], row[iso2], kind, row[name]


def main(argv: list[str]) -> None:
    with open(argv[1], encoding="utf-8", newline="") as source:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(("insee", "iso2", "kind", "name"))
        out.writerows(sorted(rows(source)))


if __name__ == "__main__":
    main(sys.argv)
