"""Writes ``postcodes.csv`` (INSEE commune code → the commune a démarches-simplifiées
communes champ takes for it, and the postcodes) from ``communes.json`` of the
``@etalab/decoupage-administratif`` package (README.md)::

    python prefill/data/make_postcodes.py communes.json > postcodes.csv

One row per code, sorted by code: a commune with itself and its postcodes; a municipal
arrondissement (Paris, Lyon, Marseille) with its commune and its own postcodes; a former
commune still listed as delegated or associated with the commune it is part of today and no
postcodes (that commune's are its). A code without a postcode (the Terres australes et
antarctiques françaises) has no row. Postcodes are sorted and separated by spaces.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def rows(communes: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(code, the commune DS takes for it, its own postcodes), sorted by code."""
    current: dict[str, list[str]] = {}  # commune code → its postcodes
    arrondissements: dict[str, tuple[str, list[str]]] = {}  # code → (commune, postcodes)
    former: dict[str, str] = {}  # code → the commune it is part of
    for each in communes:
        postcodes = sorted(each.get("codesPostaux") or [])
        kind = each["type"]
        if kind == "commune-actuelle" and postcodes:
            current[each["code"]] = postcodes
        elif kind == "arrondissement-municipal" and postcodes:
            arrondissements[each["code"]] = (each["commune"], postcodes)
        elif kind in ("commune-deleguee", "commune-associee") and each.get("chefLieu"):
            former.setdefault(each["code"], each["chefLieu"])
    for code in sorted(current.keys() | arrondissements.keys() | former.keys()):
        if code in current:
            yield code, code, " ".join(current[code])
        elif code in arrondissements:
            commune, postcodes = arrondissements[code]
            yield code, commune, " ".join(postcodes)
        elif former[code] in current:
            yield code, former[code], ""


def main(argv: list[str]) -> None:
    with open(argv[1], encoding="utf-8") as source:
        communes = json.load(source)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("code", "commune", "postcodes"))
    out.writerows(rows(communes))


if __name__ == "__main__":
    main(sys.argv)
