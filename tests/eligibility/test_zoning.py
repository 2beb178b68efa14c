"""The zone read from OpenFisca's table is the one its ``zone_apl`` formula derives."""

from __future__ import annotations

from typing import Any

import numpy as np
from openfisca_core.simulation_builder import SimulationBuilder

from eligibility.zoning import DEFAULT_ZONE, official_zone

# Paris (1bis in the table), an arrondissement of Paris and of Lyon, Limoges (2), a rural
# commune (3), a code absent from the table, no code at all.
DEPCOMS = ("75056", "75111", "69383", "87085", "01001", "99999", "")


def test_known_zones() -> None:
    assert [official_zone(d) for d in DEPCOMS] == [1, 1, 2, 2, 3, DEFAULT_ZONE, DEFAULT_ZONE]
    assert official_zone(None) == DEFAULT_ZONE


def test_same_as_openfisca_formula(tbs: Any) -> None:
    month = "2025-06"
    builder = SimulationBuilder()
    builder.create_entities(tbs)
    ids = [f"p{i}" for i in range(len(DEPCOMS))]
    builder.declare_person_entity("individu", ids)
    menage = builder.declare_entity("menage", ids)
    builder.join_with_persons(menage, np.array(ids), ["personne_de_reference"] * len(ids))
    simulation = builder.build(tbs)
    simulation.set_input("depcom", month, np.array(DEPCOMS))
    derived = simulation.calculate("zone_apl", month).decode_to_str()
    assert list(derived) == [f"zone_{official_zone(d)}" for d in DEPCOMS]
