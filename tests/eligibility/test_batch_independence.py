"""A household's answer depends on its own records only, never on what it is computed with.

Households are simulated together (a micro-batch of requests, a campaign chunk), so any
input derived from the batch as a whole would leak from one household to another. The pool
mixes golden situations with dwellings whose CAF zone differs from the commune's zone in
OpenFisca's table (the CAF record wins), dwellings without a zone, and no housing at all,
and households with unknowns evaluated at their bounds (an AAH recipient, a missing month,
a partner whose resources were not read, a partner receiving the AAH): their alternatives
are rows of the same simulation.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eligibility.adapter import adapt
from eligibility.engine import evaluate_households
from eligibility.golden import load_cases, situation_to_person
from eligibility.model import BENEFITS, BenefitResult, PersonData

MONTH = "2025-06"
_CASES = {c.name: c for c in load_cases()}
_GOLDEN = (
    "single, 35, no income, renting in Lyon",
    "couple, both 40, one earns 1,200 € net, renting",
    "single parent, 30, two children (3 and 7), no income, renting",
    "married pensioners, 70 and 68, one 1,100 € net (1,210 € gross) pension, owners",
    "single student, 30, no income, renting in Lyon",
    "no housing record",
)
_SINGLE = _CASES["single, 35, no income, renting in Lyon"].situation
_DWELLINGS: tuple[dict[str, Any], ...] = (
    # Limoges is zone 2 in OpenFisca's table; a CAF record may still say zone 3.
    {"occupancy": "tenant", "rent": 500, "commune": "87085", "zone": 3, "history_months": 24},
    {"occupancy": "tenant", "rent": 500, "commune": "87085", "history_months": 24},
    {"occupancy": "tenant", "rent": 900, "commune": "75056", "zone": 1, "history_months": 24},
    {"occupancy": "tenant", "rent": 450, "zone": 3, "history_months": 24},
)


def _variant(dwelling: dict[str, Any]) -> dict[str, Any]:
    situation = copy.deepcopy(_SINGLE)
    situation["housing"] = dwelling
    return situation


def _unknowns() -> tuple[dict[str, Any], ...]:
    aah = {**copy.deepcopy(_SINGLE), "receiving": {"aah": True}}
    gap = copy.deepcopy(_SINGLE)
    gap["resources"]["missing"] = ["2025-03"]
    couple = {**copy.deepcopy(_SINGLE), "partner": {"birth_date": "1985-07-02"}}
    partner_aah = {
        **copy.deepcopy(_SINGLE),
        "partner": {"birth_date": "1985-07-02", "sex": "M"},
        "partner_resources": {"months": 24, "payments": []},
        "partner_receiving": {"aah": True},
    }
    return aah, gap, couple, partner_aah


POOL: tuple[PersonData, ...] = (
    *(situation_to_person(_CASES[name].situation, MONTH) for name in _GOLDEN),
    *(situation_to_person(_variant(d), MONTH) for d in _DWELLINGS),
    *(situation_to_person(s, MONTH) for s in _unknowns()),
)
AAH_RECIPIENT = len(POOL) - 4
LIMOGES_ZONE_3 = len(_GOLDEN)
NO_HOUSING = _GOLDEN.index("no housing record")
_ALONE: dict[int, tuple[BenefitResult, ...]] = {}


def _evaluate(indices: list[int]) -> list[tuple[BenefitResult, ...]]:
    pairs = [(POOL[i], adapt(POOL[i], MONTH)) for i in indices]
    return evaluate_households(pairs, BENEFITS)


def _alone(index: int) -> tuple[BenefitResult, ...]:
    if index not in _ALONE:
        _ALONE[index] = _evaluate([index])[0]
    return _ALONE[index]


def test_the_pool_has_households_with_unknowns() -> None:
    """Their variants do reach the simulation: otherwise the property proves little."""
    for index in range(AAH_RECIPIENT, len(POOL)):
        assert adapt(POOL[index], MONTH).variants, POOL[index]


def test_a_caf_zone_that_differs_from_the_communes_is_computed(tbs: Any) -> None:
    """The pool's zone variants do reach OpenFisca: otherwise the property proves little."""
    by_zone = {r.benefit: r.monthly_amount for r in _alone(LIMOGES_ZONE_3)}
    by_commune = {r.benefit: r.monthly_amount for r in _alone(LIMOGES_ZONE_3 + 1)}
    assert by_zone["aide_logement"] is not None and by_commune["aide_logement"] is not None
    assert by_zone["aide_logement"] < by_commune["aide_logement"]


@pytest.mark.usefixtures("tbs")
@settings(max_examples=10, deadline=None)
@example([LIMOGES_ZONE_3, NO_HOUSING])
@example([AAH_RECIPIENT, AAH_RECIPIENT + 1, AAH_RECIPIENT + 2, 0])
@example([AAH_RECIPIENT + 3, 1, AAH_RECIPIENT + 3, AAH_RECIPIENT])
@given(st.lists(st.integers(0, len(POOL) - 1), min_size=2, max_size=6))
def test_results_are_the_same_alone_and_in_any_batch(batch: list[int]) -> None:
    together = _evaluate(batch)
    for index, results in zip(batch, together, strict=True):
        assert results == _alone(index), POOL[index]
