"""Golden cases: records-level situations → PersonData → adapter → OpenFisca, in-process."""

from __future__ import annotations

from typing import Any

import pytest

from eligibility.engine import evaluate_one
from eligibility.golden import GoldenCase, load_cases, situation_to_person
from eligibility.model import BENEFITS

CASES = load_cases()


def test_the_reference_cases_are_there() -> None:
    names = {c.name for c in CASES}
    assert "single, 35, no income, renting in Lyon" in names
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase, tbs: Any) -> None:
    person = situation_to_person(case.situation, case.month)
    results = {r.benefit: r for r in evaluate_one(person, BENEFITS, case.month)}
    for benefit, expected in case.expected.items():
        got = results[benefit]
        assert got.status == expected["status"], (benefit, got)
        if "amount" in expected and expected["amount"] is None:
            assert got.monthly_amount is None, benefit  # ELIGIBLE, amount depending on missing
        elif "amount" in expected:
            assert got.monthly_amount == pytest.approx(expected["amount"], abs=0.01), benefit
        elif got.status != "ELIGIBLE":
            assert got.monthly_amount is None
        if "missing" in expected:
            assert list(got.missing) == expected["missing"], benefit
        if "missing_prefix" in expected:
            assert got.missing[0].startswith(expected["missing_prefix"]), got.missing
        if "non_take_up" in expected:
            assert got.non_take_up is expected["non_take_up"], benefit
        if got.status == "ELIGIBLE":
            assert got.criteria and all(c.href.startswith("https://") for c in got.criteria)
            assert got.inputs
