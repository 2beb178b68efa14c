"""Fancy-indexed parameters looked up by distinct key give what element-wise look-ups give.

``eligibility.simulation`` replaces OpenFisca-core's per-element look-up of a parameter
node indexed by an array (``par_zone[zone_apl]``, ``capital_representatif[age]``) with one
look-up per distinct key. The reference here is read element by element from the plain
parameter tree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eligibility import simulation

_AL = "prestations_sociales.aides_logement.allocations_logement.locatif.formule.l_plafonds_loyers"
_RLS = "prestations_sociales.aides_logement.reduction_loyer_solidarite.plafond_ressources"
_AT = "prestations_sociales.solidarite_insertion.minima_sociaux.accident_travail.rente.taux"


def _node(tbs: Any, path: str) -> Any:
    node = tbs.parameters("2025-06-01")
    for part in path.split("."):
        node = node[part]
    return node


def test_the_simulation_uses_distinct_key_look_ups(tbs: Any) -> None:
    vector = _node(tbs, f"{_AL}.par_zone")[np.array(["zone_1", "zone_2", "zone_1"])]
    assert vector.__dict__["_distinct_inverse"].tolist() == [0, 1, 0]
    assert simulation._Vectorial.__getitem__ is not simulation._BY_ELEMENT[1]


def test_string_keys_then_leaves(tbs: Any) -> None:
    zones = np.array(["zone_2", "zone_1", "zone_2", "zone_3", "zone_1", "zone_2"])
    for path in (f"{_AL}.par_zone", f"{_RLS}.par_zone"):
        scales = _node(tbs, path)
        looked_up = scales[zones]
        for leaf in scales["zone_1"]:
            expected = np.array([scales[z][leaf] for z in zones])
            got = looked_up[leaf]
            assert got.dtype == expected.dtype, (path, leaf)
            assert got.tolist() == expected.tolist(), (path, leaf)


def test_integer_keys(tbs: Any) -> None:
    ages = np.array([30, 16, 99, 30, 45, 16], dtype=np.int32)
    by_age = _node(tbs, f"{_AT}.capital_representatif")
    got = by_age[ages]
    expected = np.array([by_age[str(a)] for a in ages])
    assert got.dtype == expected.dtype and got.tolist() == expected.tolist()


def test_an_array_key_on_an_indexed_node_is_read_element_by_element(tbs: Any) -> None:
    zones = np.array(["zone_3", "zone_1", "zone_1", "zone_2"])
    leaves = np.array(["couples", "couples", "personnes_seules", "un_enfant"])
    scales = _node(tbs, f"{_AL}.par_zone")
    got = scales[zones][leaves]
    expected = [scales[z][k] for z, k in zip(zones, leaves, strict=True)]
    assert got.tolist() == expected
