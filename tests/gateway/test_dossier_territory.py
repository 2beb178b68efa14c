"""The procedure choice names the départements a procedure serves, as a person knows them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sandbox as sandbox_package
from gateway.dossiers.acting import Registered
from gateway.dossiers.start import _territory
from prefill.procedure import load_procedure_file

MAPPINGS = Path(sandbox_package.__file__).parent / "demarches" / "mappings"


def test_the_procedure_choice_names_its_departements() -> None:
    ssd = load_procedure_file(MAPPINGS / "demande-rsa-seine-saint-denis.yaml")
    assert _territory(Registered(ssd, ())) == "Département : Seine-Saint-Denis (93)"
    both = dataclasses.replace(ssd, territory=frozenset({"93", "2A"}))
    assert _territory(Registered(both, ())) == (
        "Départements : Corse-du-Sud (2A), Seine-Saint-Denis (93)"
    )
    everywhere = load_procedure_file(MAPPINGS / "demande-rsa.yaml")
    assert _territory(Registered(everywhere, ())) == "Autres départements"
