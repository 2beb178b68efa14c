"""The housing aid and the ASF counted as the CAF pays them (``eligibility.paid``)."""

from __future__ import annotations

from typing import Any

from eligibility import BENEFITS, evaluate_population
from eligibility.golden import situation_to_person
from eligibility.model import PersonData

MONTH = "2025-06"
LYON = {"occupancy": "tenant", "rent": 650, "commune": "69123", "history_months": 24}


def _parent(housing: dict[str, Any], receiving: dict[str, bool]) -> PersonData:
    situation = {
        "person": {"birth_date": "1995-02-01"},
        "children": [{"birth_date": "2022-01-10"}, {"birth_date": "2018-05-20"}],
        "resources": {"months": 24, "payments": []},
        "housing": {**LYON, **housing},
        "receiving": receiving,
    }
    return situation_to_person(situation, MONTH)


def _answers(persons: list[PersonData]) -> list[dict[str, tuple[str, float | None]]]:
    results = evaluate_population(persons, BENEFITS, MONTH)
    return [{r.benefit: (r.status, r.monthly_amount) for r in one} for one in results]


def test_paid_or_computed_each_household_keeps_its_own(tbs: Any) -> None:
    persons = [
        _parent({}, {}),  # computed: the CAF says it pays an aid of unstated amount
        _parent({"aid_receiving": False}, {"asf": False}),  # paid nothing
        _parent({"aid_monthly": 120.0}, {"asf": True}),  # paid, amounts from the CAF
    ]
    together = _answers(persons)
    alone = [_answers([p])[0] for p in persons]
    assert together == alone
    computed, unpaid, paid = together
    # Without the ASF and the housing flat rate the RSA is higher...
    assert unpaid["rsa"][1] is not None and computed["rsa"][1] is not None
    assert unpaid["rsa"][1] > computed["rsa"][1]
    # ...and the housing aid answered is the one the dwelling gives, whatever is paid.
    assert computed["aide_logement"] == unpaid["aide_logement"] == paid["aide_logement"]


def test_what_was_counted_as_paid_is_among_the_inputs(tbs: Any) -> None:
    [result, *_] = evaluate_population(
        [_parent({"aid_receiving": False}, {"asf": False})], ["rsa"], MONTH
    )[0]
    used = {i.name: i for i in result.inputs}
    assert used["aide_logement_verse"].value == "0.00 €/month (paid)"
    assert used["aide_logement_verse"].agency == "CNAF"
    assert used["asf_verse"].value == "0.00 €/month (not paid)"
