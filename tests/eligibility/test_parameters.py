"""The OpenFisca-France release in use is current for the five benefits, but for the CSS ceiling.

``eligibility/reform.py`` corrects the one parameter the release left stale; this keeps the
check behind it. Each benefit's amounts must carry their yearly revaluations through 2026
(RSA and PPA on 1 April, ASPA with the pensions on 1 January, the housing-aid scales on
1 October): a release that lacks one would compute a past year's amounts without a word.
The CSS ceiling must still be stale as released: when a release carries it, the reform's
override is to be compared with it and dropped.
"""

from __future__ import annotations

from typing import Any

import pytest

MINIMA = "prestations_sociales.solidarite_insertion.minima_sociaux"
RENT = "prestations_sociales.aides_logement.allocations_logement.locatif.formule"
ZONE_2 = f"{RENT}.l_plafonds_loyers.par_zone.zone_2"
CSS_CEILING = f"{MINIMA}.cs.cmu.plafond_base"


def _starts(parameters: Any, path: str) -> set[str]:
    node = parameters
    for part in path.split("."):
        node = node.children[part]
    return {value.instant_str for value in node.values_list}


@pytest.mark.parametrize(
    ("path", "revaluations"),
    [
        (f"{MINIMA}.rsa.rsa_m.montant_de_base_du_rsa", ("2025-04-01", "2026-04-01")),
        (f"{MINIMA}.ppa.pa_m.montant_de_base", ("2025-04-01", "2026-04-01")),
        (
            "prestations_sociales.solidarite_insertion.minimum_vieillesse.aspa"
            ".montant_maximum_annuel.personnes_seules",
            ("2025-01-01", "2026-01-01"),
        ),
        (f"{ZONE_2}.personnes_seules", ("2025-10-01", "2026-10-01")),
        (f"{RENT}.c_forfait_charges.cas_general.cas_general", ("2025-10-01", "2026-10-01")),
    ],
)
def test_amounts_carry_their_revaluations(
    tbs: Any, path: str, revaluations: tuple[str, ...]
) -> None:
    assert set(revaluations) <= _starts(tbs.parameters, path), path


def test_the_css_ceiling_is_stale_as_released_and_sourced_by_the_reform(tbs: Any) -> None:
    release = tbs
    while getattr(release, "baseline", None) is not None:  # the reforms' own baselines
        release = release.baseline
    released = _starts(release.parameters, CSS_CEILING)
    assert max(released) == "2024-04-01"
    assert max(_starts(tbs.parameters, CSS_CEILING)) == "2025-04-01"
