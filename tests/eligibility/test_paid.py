"""The housing aid and the ASF counted as the CAF pays them (``eligibility.paid``)."""

from __future__ import annotations

from typing import Any

from eligibility import BENEFITS, evaluate_population
from eligibility.golden import situation_to_person
from eligibility.model import PersonData
from eligibility.stated import FAMILY_BASE_UNKNOWN

MONTH = "2025-06"
SALARY = {"nature": "salary", "net_social": 1200, "net_taxable": 1236}
LYON = {"occupancy": "tenant", "rent": 650, "commune": "69123", "history_months": 24}


def _parent(housing: dict[str, Any], receiving: dict[str, bool]) -> PersonData:
    situation = {
        "person": {"birth_date": "1995-02-01"},
        "children": [{"birth_date": "2022-01-10"}, {"birth_date": "2018-05-20"}],
        "resources": {"months": 24, "payments": []},
        "tax": {"year": 2023, "rfr": 0},
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


def test_without_the_n_2_tax_household_the_family_base_is_bounded(tbs: Any) -> None:
    # A baby, one salary: the PAJE (means-tested on year N-2) changes the PPA; with the tax
    # household of another year the base is an unknown, and the PPA names it.
    situation = {
        "person": {"birth_date": "1992-03-03"},
        "partner": {"birth_date": "1993-04-04"},
        "children": [{"birth_date": "2024-09-01"}],
        "marital_status": "pacse",
        "tax": {"year": 2024, "rfr": 60000},
        "resources": {"months": 24, "payments": [SALARY]},
        "partner_resources": {"months": 24, "payments": []},
        "housing": {**LYON, "rent": 700},
    }
    [results] = evaluate_population([situation_to_person(situation, MONTH)], BENEFITS, MONTH)
    ppa = next(r for r in results if r.benefit == "ppa")
    assert ppa.status == "CANNOT_EVALUATE"
    assert ppa.missing == (FAMILY_BASE_UNKNOWN.what,)
    # The same with year N-2's: answered (no PAJE at 60,000 €, one income or two).
    known = {**situation, "tax": {"year": 2023, "rfr": 60000}}
    [results] = evaluate_population([situation_to_person(known, MONTH)], BENEFITS, MONTH)
    ppa = next(r for r in results if r.benefit == "ppa")
    assert (ppa.status, ppa.monthly_amount) == ("ELIGIBLE", 595.41)


def test_partners_filing_apart_sum_their_n_2_tax_households(tbs: Any) -> None:
    # Concubins each file their own return: the family benefits' N-2 base is the couple's
    # income, both revenus fiscaux de référence; with the person's alone it stays unknown.
    situation = {
        "person": {"birth_date": "1992-03-03"},
        "partner": {"birth_date": "1993-04-04"},
        "children": [{"birth_date": "2024-09-01"}],
        "marital_status": "celibataire",
        "tax": {"year": 2023, "rfr": 14000},
        "resources": {"months": 24, "payments": [SALARY]},
        "partner_resources": {"months": 24, "payments": []},
        "housing": {**LYON, "rent": 700},
    }
    [alone] = evaluate_population([situation_to_person(situation, MONTH)], BENEFITS, MONTH)
    ppa = next(r for r in alone if r.benefit == "ppa")
    assert ppa.missing == (FAMILY_BASE_UNKNOWN.what,)
    both = {**situation, "partner_tax": {"year": 2023, "rfr": 46000}}
    [results] = evaluate_population([situation_to_person(both, MONTH)], BENEFITS, MONTH)
    ppa = next(r for r in results if r.benefit == "ppa")
    assert ppa.missing == ()
    # The couple's 60,000 €, as when they file together (no PAJE, one income or two).
    assert (ppa.status, ppa.monthly_amount) == ("ELIGIBLE", 595.41)
    used = {i.name: i.value for i in ppa.inputs}
    assert used["prestations_familiales_base_ressources"].startswith("60000 €")
    assert used["partner revenu_fiscal_de_reference"] == "46000 € (2023)"
    # A partner's return of another year is not summed.
    stale = {**situation, "partner_tax": {"year": 2024, "rfr": 46000}}
    [results] = evaluate_population([situation_to_person(stale, MONTH)], BENEFITS, MONTH)
    ppa = next(r for r in results if r.benefit == "ppa")
    assert ppa.missing == (FAMILY_BASE_UNKNOWN.what,)
