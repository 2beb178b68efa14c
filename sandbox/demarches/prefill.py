"""A prefilled dossier from DS's prefill parameters (the POST body or the GET link's query).

The POST body is JSON: ``champ_<id>`` keys, ``identite_*`` keys, a repetition as a list of
objects. The GET link writes the same with Rails' bracket syntax: ``champ_<id>[]=a&…`` for a
list, ``champ_<id>[][champ_<child>]=v&…`` for a repetition's rows (a new row starts when a
child key repeats). Keys naming no champ of the procedure are ignored, as DS does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox.demarches.ids import stable_id_of
from sandbox.demarches.procedures import Procedure
from sandbox.demarches.store import Dossier, DossierStore
from sandbox.demarches.typing import blank, identity, prefill_value
from sandbox.demarches.values import Row, Value


def rails_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query-string pairs as Rails reads them: ``a[]`` lists and ``a[][b]`` lists of objects."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            out.setdefault(key[:-2], [])
            if isinstance(out[key[:-2]], list):
                out[key[:-2]].append(value)
        elif "[][" in key and key.endswith("]"):
            name, _, sub = key.partition("[][")
            rows = out.setdefault(name, [])
            if not isinstance(rows, list):
                continue
            sub = sub[:-1]
            if not rows or not isinstance(rows[-1], dict) or sub in rows[-1]:
                rows.append({})
            rows[-1][sub] = value
        else:
            out[key] = value
    return out


def typed_values(procedure: Procedure, params: Mapping[str, Any]) -> dict[int, Value]:
    """The values DS keeps, by top-level champ stable id (a repetition's children are typed
    within their rows)."""
    top = {c.stable_id: c for c in procedure.champs}
    values: dict[int, Value] = {}
    for key, raw in params.items():
        stable = stable_id_of(key) if isinstance(key, str) else None
        champ = top.get(stable) if stable is not None else None
        if champ is None or blank(raw):
            continue
        typed = prefill_value(champ, raw)
        if typed is not None:
            values[champ.stable_id] = typed
    return values


def _prefilled_ids(values: Mapping[int, Value]) -> frozenset[int]:
    ids = set(values)
    for value in values.values():
        if isinstance(value, list):
            for row in value:
                if isinstance(row, Row):
                    ids.update(row.values)
    return frozenset(ids)


def prefill(
    store: DossierStore, procedure: Procedure, params: Mapping[str, Any], now: datetime
) -> Dossier:
    """A new "brouillon" dossier holding what DS would keep of ``params``."""
    values = typed_values(procedure, params)
    return store.create(procedure.number, values, _prefilled_ids(values), identity(params), now)
