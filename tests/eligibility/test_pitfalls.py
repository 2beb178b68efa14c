"""Each measured OpenFisca pitfall (DESIGN §8) with the test that keeps it handled."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from connectors.records import MonthlyResources, Payment
from eligibility.adapter import adapt
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.model import BENEFITS
from eligibility.months import history, shift
from eligibility.reform import CSS_CEILING_2025
from eligibility.simulation import FED_INCOMES, NOT_SIMULATED, OUTPUTS

LYON = {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24}
EARNER = {
    "person": {"birth_date": "1990-01-15"},
    "resources": {
        "months": 24,
        "payments": [{"nature": "salary", "net_social": 800, "net_taxable": 824}],
    },
    "housing": LYON,
}


def _by_benefit(situation: dict[str, Any], month: str = "2025-06") -> dict[str, Any]:
    person = situation_to_person(situation, month)
    return {r.benefit: r for r in evaluate_one(person, BENEFITS, month)}


def test_a_missing_month_is_never_read_as_zero_income(tbs: Any) -> None:
    # Without the check, OpenFisca reads 2025-04 as no income and the RSA of an earner
    # appears; the answer must be CANNOT_EVALUATE naming the month, for every benefit the
    # month can change (not the ASPA of a 35-year-old: tests/eligibility/test_decisive.py).
    situation = {**EARNER, "resources": {**EARNER["resources"], "missing": ["2025-04"]}}
    answers = _by_benefit(situation)
    assert answers.pop("aspa").status == "NOT_ELIGIBLE"
    for result in answers.values():
        assert result.status == "CANNOT_EVALUATE"
        assert result.missing == ("resources 2025-04",)
        assert result.monthly_amount is None and not result.non_take_up


def test_net_social_and_net_taxable_feed_their_own_variables() -> None:
    person = situation_to_person(EARNER, "2025-06")
    assert person.resources is not None
    month = MonthlyResources(
        "2025-05",
        (
            Payment("1", "employer", "salary", 800.0, 824.0),
            Payment("2", "unemployment", "unemployment_benefit", 300.0, 320.0),
            Payment("3", "pension", "pension", 100.0, 110.0),
        ),
    )
    months = (*(m for m in person.resources.months if m.month != "2025-05"), month)
    person = dataclasses.replace(
        person, resources=dataclasses.replace(person.resources, months=months)
    )
    incomes = adapt(person, "2025-06").members[0].incomes
    index = history("2025-06").index("2025-05")
    assert incomes["salaire_net"][index] == 800.0
    assert incomes["salaire_imposable"][index] == 824.0
    assert incomes["chomage_net"][index] == 300.0
    assert incomes["chomage_imposable"][index] == 320.0
    assert incomes["retraite_nette"][index] == 100.0
    assert incomes["retraite_imposable"][index] == 110.0


def test_the_month_asked_carries_the_last_declared_month() -> None:
    # A drop to zero at M would trigger OpenFisca's neutralisation of lost income (the
    # earner's RSA would read 568.94 instead of 0): M-1 is carried to M.
    household = adapt(situation_to_person(EARNER, "2025-06"), "2025-06")
    assert household.months[-1] == "2025-06" and len(household.months) == 19
    assert household.members[0].incomes["salaire_net"][-1] == 800.0


def test_housing_is_fed_for_every_month_read(tbs: Any) -> None:
    household = adapt(situation_to_person(EARNER, "2025-06"), "2025-06")
    assert household.dwelling is not None
    assert household.dwelling.rents == (500.0,) * 19
    # Fed at M only, this release answers PPA 336.60 instead of 261.04 (measured).
    assert _by_benefit(EARNER)["ppa"].monthly_amount == pytest.approx(261.04, abs=0.01)


def test_housing_without_rent_history_carries_the_current_rent() -> None:
    situation = {**EARNER, "housing": {**LYON, "history_months": 0}}
    household = adapt(situation_to_person(situation, "2025-06"), "2025-06")
    assert household.dwelling is not None and household.dwelling.rents == (500.0,) * 19
    assert any("carried back" in i.value for i in household.inputs if i.name == "loyer")


def test_the_paid_amount_of_a_benefit_is_never_an_input(tbs: Any) -> None:
    computed = {v for names in OUTPUTS.values() for v in names}
    paid = {"rsa", "ppa", "aspa", "aide_logement", "apl", "als", "alf", "cmu_c"}
    household = adapt(situation_to_person(EARNER, "2025-06"), "2025-06")
    fed = {name for m in household.members for name in m.incomes}
    assert fed <= set(FED_INCOMES)
    assert not (set(FED_INCOMES) | set(NOT_SIMULATED)) & (computed | paid)
    # What the agencies say they pay changes nothing to the amounts computed.
    situation = {
        **EARNER,
        "housing": {**LYON, "aid_receiving": True, "aid_kind": "APL", "aid_monthly": 999.0},
        "receiving": {"ppa": True, "rsa": True},
    }
    results = _by_benefit(situation)
    assert results["aide_logement"].monthly_amount == 187.0
    assert results["aide_logement"].receiving is True
    assert results["ppa"].monthly_amount == pytest.approx(261.04, abs=0.01)
    assert not results["ppa"].non_take_up


def test_the_stale_css_ceiling_is_overridden_from_april_2025(tbs: Any) -> None:
    cmu = "prestations_sociales.solidarite_insertion.minima_sociaux.cs.cmu.plafond_base"

    def ceiling(day: str) -> float:
        node = tbs.parameters(day)
        for part in cmu.split("."):
            node = node[part]
        return float(node)

    assert ceiling("2025-03-01") == 10166.0  # as released
    assert ceiling("2025-04-01") == CSS_CEILING_2025 == 10339.0
    assert ceiling("2026-03-01") == 10339.0


def test_css_past_the_last_sourced_ceiling_is_not_invented(tbs: Any) -> None:
    results = _by_benefit(EARNER, "2026-04")
    # Entitled at both bounds of the ceiling; the participation depends on it.
    assert (results["css"].status, results["css"].monthly_amount) == ("ELIGIBLE", None)
    assert "CSS resource ceiling after 2026-03" in results["css"].missing[0]
    assert results["ppa"].status == "ELIGIBLE"  # the other benefits still answer
    assert _by_benefit(EARNER, "2026-03")["css"].status == "ELIGIBLE"


def test_aspa_needs_gross_pensions(tbs: Any) -> None:
    # Fed net pensions only, OpenFisca pays the full ASPA (1034.29) to a pensioner.
    pensioner = {
        "person": {"birth_date": "1953-02-11"},
        "resources": {
            "months": 24,
            "payments": [{"nature": "pension", "net_social": 700, "net_taxable": 745}],
        },
        "housing": LYON,
    }
    result = _by_benefit(pensioner)["aspa"]
    # Without the record, gross pensions lie between the net and the net / 0.88: entitled
    # at both, the amount unknown.
    assert (result.status, result.monthly_amount) == ("ELIGIBLE", None)
    assert result.missing == ("retirement record (gross pensions, counted by ASPA)",)
    with_record = {
        **pensioner,
        "retirement": {"pensions": [{"gross": 770, "net": 700, "since": date(2018, 3, 1)}]},
    }
    assert _by_benefit(with_record)["aspa"].monthly_amount == pytest.approx(264.29, abs=0.01)


def test_a_partner_found_only_in_the_tax_household(tbs: Any) -> None:
    situation = {
        **EARNER,
        "caf_file": False,
        "partner": {"birth_date": "1989-01-01"},
        "marital_status": "marie",
        "partner_resources": {"months": 24, "payments": []},
    }
    household = adapt(situation_to_person(situation, "2025-06"), "2025-06")
    assert [m.role for m in household.members] == ["claimant", "partner"]
    assert household.joint_tax


def test_no_income_is_left_for_openfisca_to_rebuild_from_gross(tbs: Any) -> None:
    # Every income variable is fed, zeros included, from five years before the window: left
    # out, OpenFisca rebuilds them from zero gross amounts (same zeros, 3x the cost), and
    # ASS is not simulated on top of the unemployment payments already fed.
    from eligibility import simulation as sim

    household = adapt(situation_to_person(EARNER, "2025-06"), "2025-06")
    builder = sim.declare([household])
    simulation = builder.build(tbs)
    sim.feed(simulation, [household])
    first = shift(household.months[0], -sim.PREFILL_MONTHS)
    for name in (*sim.FED_INCOMES, *sim.NOT_SIMULATED):
        known = {str(p) for p in simulation.get_holder(name).get_known_periods()}
        assert {first, "2025-06"} <= known, name
    assert float(simulation.calculate("ass", "2025-03")[0]) == 0.0


def test_an_aah_recipient_is_evaluated_only_where_the_aah_cannot_change_the_answer(
    tbs: Any,
) -> None:
    # AAH is not simulated (no disability rate) and not in GIP-MDS: its amount is unknown,
    # between none and the full AAH. It enters the PPA's and the CSS's resources: decisive;
    # the RSA is out of reach of an 800 € salary either way, and housing aid does not count
    # it (tests/eligibility/test_decisive.py has the rest).
    results = _by_benefit({**EARNER, "receiving": {"aah": True}})
    aah = ("AAH amount (paid by the CAF, not in the resource history)",)
    assert results["ppa"].status == "CANNOT_EVALUATE" and results["ppa"].missing == aah
    assert results["css"].status == "CANNOT_EVALUATE" and results["css"].missing == aah
    assert results["rsa"].status == "NOT_ELIGIBLE" and results["rsa"].missing == ()
    assert results["aide_logement"].monthly_amount == 187.0
