"""Writes ``insee_communes.csv`` (INSEE commune code → name, département) from INSEE's COG.

Reads INSEE's "communes" file of the Code officiel géographique, either as INSEE publishes it
(columns ``TYPECOM``, ``COM``, ``DEP``, ``LIBELLE``, ``COMPARENT``) or as the republication
named in README.md (``type_code``, ``code``, ``department_code``, ``name``, ``parent_code``),
and keeps one row per code: a commune (``COM``) or a municipal arrondissement (``ARM``) with
its name; a former commune still listed as a delegated or associated commune (``COMD``,
``COMA``) with its own name and its commune's when they differ (a code shared by a commune and
its delegated commune keeps both names)::

    python prefill/data/make_communes.py v_commune_2025.csv > insee_communes.csv

Given the ``communes.json`` of the ``@etalab/decoupage-administratif`` package as a second
file, it adds the communes of the collectivités d'outre-mer (Saint-Pierre-et-Miquelon,
Saint-Barthélemy, Saint-Martin, Wallis-et-Futuna, French Polynesia, New Caledonia, the Terres
australes et antarctiques, Clipperton), which INSEE lists in another file::

    python prefill/data/make_communes.py v_commune_2025.csv communes.json > insee_communes.csv
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

_COLUMNS = (
    ("TYPECOM", "COM", "DEP", "LIBELLE", "COMPARENT"),
    ("type_code", "code", "department_code", "name", "parent_code"),
)
_CURRENT = ("COM", "ARM")
_FORMER = ("COMD", "COMA")


def rows(lines: Iterable[str]) -> Iterator[tuple[str, str, str, str]]:
    """(code, name, the current commune's name when the code is a former commune's, département),
    sorted by code."""
    reader = csv.DictReader(lines)
    fields = reader.fieldnames or []
    columns = next((c for c in _COLUMNS if set(c) <= set(fields)), None)
    if columns is None:
        raise SystemExit(f"not a COG communes file: columns {fields}")
    kind, code, dep, name, parent = columns
    current: dict[str, tuple[str, str]] = {}  # code → (name, département)
    former: dict[str, tuple[str, str, str]] = {}  # code → (name, parent code, département)
    for row in reader:
        if row[kind] in _CURRENT:
            current[row[code]] = (row[name], row[dep])
        elif row[kind] in _FORMER:
            former.setdefault(row[code], (row[name], row[parent], row[dep]))
    for each in sorted(current.keys() | former.keys()):
        if each in former:
            own, parent_code, departement = former[each]
            # INSEE's own file leaves a delegated or associated commune's département empty:
            # it is its commune's.
            now, parent_departement = current.get(parent_code, ("", ""))
            yield each, own, now if now != own else "", departement or parent_departement
        else:
            own, departement = current[each]
            yield each, own, "", departement


def overseas(communes: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str, str, str]]:
    """The communes of the collectivités d'outre-mer (``zone`` ``com``), as ``rows`` gives
    them: (code, name, "", the collectivité's code)."""
    for each in communes:
        if each.get("zone") == "com" and each["type"] == "commune-actuelle":
            yield each["code"], each["nom"], "", each["departement"]


def main(argv: list[str]) -> None:
    with open(argv[1], encoding="utf-8", newline="") as source:
        found = list(rows(source))
    if len(argv) > 2:
        with open(argv[2], encoding="utf-8") as package:
            found = sorted({r[0]: r for r in [*overseas(json.load(package)), *found]}.values())
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("code", "name", "commune", "departement"))
    out.writerows(found)


if __name__ == "__main__":
    main(sys.argv)
