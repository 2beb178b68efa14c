"""What the person declared, applied to the records eligibility reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import records as r
from prefill import Submission, corrected_facts, load_forms
from prefill.declared import DECLARED_AGENCY, declared_records
from tests.prefill.records import person_records

ON = date(2025, 7, 10)
WINDOW = 18


def without(*names: str) -> dict[str, object]:
    return {k: v for k, v in person_records().items() if k not in names}


def declared(fields: dict[str, object], facts: dict[str, Any]) -> dict[str, object]:
    return declared_records(fields, facts, on=ON, history_months=WINDOW)


def test_nothing_declared_changes_nothing() -> None:
    fields = person_records()
    assert declared(fields, {}) == fields


# --- housing -------------------------------------------------------------------------------


def test_a_housing_is_built_from_the_declared_occupancy_rent_and_charges() -> None:
    fields = without("housing", "benefits.housingAid")
    out = declared(
        fields,
        {
            "housing.occupancy": "locataire",
            "housing.monthly_rent": 550.0,
            "housing.monthly_charges": 30.0,
            "benefits.housingAid.receiving": False,
        },
    )
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert (housing.occupancy, housing.monthly_rent, housing.monthly_charges) == (
        "tenant",
        550.0,
        30.0,
    )
    # The commune the CAF knows the address in; the zone is the rules' to derive.
    assert housing.cog_commune == "69383" and housing.zone is None
    assert len(housing.rent_history) == WINDOW
    assert housing.rent_history[0].month == "2024-01"
    assert housing.rent_history[-1].month == "2025-06"
    assert {(m.rent, m.charges) for m in housing.rent_history} == {(550.0, 30.0)}
    assert housing.aid_receiving is False
    assert housing.provenance.agency == DECLARED_AGENCY
    assert housing.provenance.source == "prefill" and housing.provenance.as_of == ON
    assert out["benefits.housingAid"] == housing
    assert "housing" not in fields  # the input is left as it was


def test_the_commune_falls_back_on_the_tax_households_address() -> None:
    out = declared(
        without("housing", "benefits.housingAid", "household"),
        {"housing.occupancy": "proprietaire"},
    )
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert housing.cog_commune == "69383"
    assert housing.monthly_rent is None and housing.rent_history == ()


def test_a_rent_without_an_occupancy_or_a_record_is_not_enough() -> None:
    out = declared(
        without("housing", "benefits.housingAid"),
        {"housing.monthly_rent": 550.0, "benefits.housingAid.receiving": True},
    )
    assert "housing" not in out


def test_a_corrected_rent_replaces_the_agencys_for_the_whole_window() -> None:
    out = declared(person_records(), {"housing.monthly_rent": 620.0})
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert housing.monthly_rent == 620.0 and housing.monthly_charges == 40.0
    assert len(housing.rent_history) == WINDOW
    assert {m.rent for m in housing.rent_history} == {620.0}
    assert housing.cog_commune == "69383" and housing.zone == 1  # the agency's, kept
    assert housing.provenance.agency == DECLARED_AGENCY


def test_the_same_values_keep_the_agencys_record() -> None:
    fields = person_records()
    out = declared(
        fields,
        {
            "housing.occupancy": "locataire",
            "housing.monthly_rent": 500.0,
            "benefits.housingAid.receiving": True,
        },
    )
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert housing.provenance.agency == "CNAF"


def test_a_move_to_an_owned_home_drops_the_rent() -> None:
    out = declared(person_records(), {"housing.occupancy": "proprietaire"})
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert housing.occupancy == "owner"
    assert housing.monthly_rent is None and housing.rent_history == ()


@pytest.mark.parametrize(
    ("facts", "receiving", "amount"),
    [
        ({"benefits.housingAid.receiving": False}, False, 0.0),
        ({"benefits.housingAid.monthly_amount": 210.0}, True, 210.0),
    ],
)
def test_the_housing_aid_received(facts: dict[str, Any], receiving: bool, amount: float) -> None:
    out = declared(person_records(), facts)
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert (housing.aid_receiving, housing.aid_monthly) == (receiving, amount)
    assert out["benefits.housingAid"] == housing


def test_a_newly_declared_aid_is_left_to_the_rules_to_compute() -> None:
    fields = without("housing", "benefits.housingAid")
    out = declared(
        fields, {"housing.occupancy": "locataire", "benefits.housingAid.receiving": True}
    )
    housing = out["housing"]
    assert isinstance(housing, r.Housing)
    assert housing.aid_receiving is True and housing.aid_monthly is None


# --- resources ----------------------------------------------------------------------------


def _months(out: dict[str, object]) -> dict[str, r.MonthlyResources]:
    resources = out["resources"]
    assert isinstance(resources, r.Resources)
    return {m.month: m for m in resources.months}


def _natures(month: r.MonthlyResources) -> dict[str, float]:
    totals: dict[str, float] = {}
    for p in month.payments:
        totals[p.nature] = round(totals.get(p.nature, 0.0) + p.net_social, 2)
    return totals


def test_a_monthly_table_sets_the_natures_it_has_columns_for() -> None:
    rows = [
        {"month": "2025-05", "payments[nature=salary].net_social": 0.0},
        {"month": "2025-06", "payments[nature=salary].net_social": 650.0},
    ]
    out = declared(person_records(), {"resources.months[-3:]": rows})
    months = _months(out)
    # No salary column value changed in May; the unemployment benefit, not in the table, stays.
    assert _natures(months["2025-05"]) == {"unemployment_benefit": 950.5}
    assert _natures(months["2025-06"]) == {"unemployment_benefit": 500.0, "salary": 650.0}
    assert months["2025-04"] == _months(person_records())["2025-04"]
    resources = out["resources"]
    assert isinstance(resources, r.Resources)
    assert resources.provenance.agency == DECLARED_AGENCY


def test_an_unchanged_amount_keeps_the_agencys_payments() -> None:
    before = _months(person_records())["2025-06"]
    rows = [{"month": "2025-06", "payments[nature=salary].net_social": 400.0}]
    out = declared(person_records(), {"resources.months[-3:]": rows})
    assert _months(out)["2025-06"] == before


def test_a_table_provided_without_a_resources_record_builds_one() -> None:
    rows = [
        {"month": m, "payments[nature=salary].net_social": 100.0}
        for m in ("2025-04", "2025-05", "2025-06")
    ]
    out = declared(without("resources"), {"resources.months[-3:]": rows})
    resources = out["resources"]
    assert isinstance(resources, r.Resources)
    assert [m.month for m in resources.months] == ["2025-04", "2025-05", "2025-06"]
    assert "2025-03" in resources.missing_months and "2025-06" not in resources.missing_months
    assert resources.provenance.agency == DECLARED_AGENCY


def test_the_ppa_tables_of_the_same_months_both_count() -> None:
    form = load_forms()["ppa"]
    activity = [
        {"mois": m, "salaires": 500.0, "revenus_independants": 0.0}
        for m in ("2025-04", "2025-05", "2025-06")
    ]
    others = [
        {"mois": m, "allocations_chomage": 0.0, "pensions": 0.0}
        for m in ("2025-04", "2025-05", "2025-06")
    ]
    facts = corrected_facts(
        form,
        Submission("ppa", (), {"revenus_activite": activity, "autres_ressources": others}, {}),
    )
    out = declared(person_records(), dict(facts))
    months = _months(out)
    for m in ("2025-04", "2025-05", "2025-06"):
        assert _natures(months[m]) == {"salary": 500.0}, m


def test_a_total_over_three_months_scales_that_natures_payments() -> None:
    path = "resources.months[-3:].payments[nature=unemployment_benefit].net_social"
    out = declared(person_records(), {path: 875.25})  # the agency's 1750.5, halved
    months = _months(out)
    assert _natures(months["2025-04"])["unemployment_benefit"] == 150.0
    assert _natures(months["2025-05"])["unemployment_benefit"] == 475.25
    assert _natures(months["2025-06"])["unemployment_benefit"] == 250.0
    assert _natures(months["2025-04"])["salary"] == 800.0


def test_a_total_of_a_nature_never_paid_is_spread_evenly() -> None:
    path = "resources.months[-3:].payments[nature=pension].net_social"
    out = declared(person_records(), {path: 900.0})
    months = _months(out)
    assert [_natures(months[m]).get("pension") for m in ("2025-04", "2025-05", "2025-06")] == [
        300.0,
        300.0,
        300.0,
    ]
    assert "pension" not in _natures(months["2025-03"])


def test_a_total_of_every_nature_scales_the_months_not_detailed() -> None:
    salary = "resources.months[-3:].payments[nature=salary].net_social"
    total = "resources.months[-6:].net_social"
    # The last three months detailed: 1200 of salary (the agency's), the unemployment
    # benefits kept (1750.5); the three before, 2400 of salary, declared as 1200.
    out = declared(person_records(), {salary: 1200.0, total: 1200.0 + 1750.5 + 1200.0})
    months = _months(out)
    assert [_natures(months[m])["salary"] for m in ("2025-01", "2025-02", "2025-03")] == [
        400.0,
        400.0,
        400.0,
    ]
    assert _natures(months["2025-06"]) == {"salary": 400.0, "unemployment_benefit": 500.0}


# --- household ----------------------------------------------------------------------------


def test_children_declared_replace_the_cafs() -> None:
    rows = [
        {"given_names": "LÉA", "birth_name": "MARTIN", "birth_date": "2015-09-01"},
        {"given_names": "NOÉ", "birth_name": "MARTIN", "birth_date": "2025-05-02", "sex": "M"},
    ]
    out = declared(person_records(), {"household.children": rows})
    caf = out["household"]
    assert isinstance(caf, r.FamilyQuotient)
    assert [(c.given_names, c.birth_date) for c in caf.children] == [
        ("LÉA", date(2015, 9, 1)),
        ("NOÉ", date(2025, 5, 2)),
    ]
    assert caf.children[0].sex == "F"  # not a column of this form: the CAF's
    assert caf.claimants == without()["household"].claimants  # type: ignore[attr-defined]
    assert caf.provenance.agency == DECLARED_AGENCY


def test_without_a_caf_household_one_is_built_from_what_was_declared() -> None:
    rows = [{"given_names": "INES", "birth_name": "MARTIN", "birth_date": "2023-03-12"}]
    out = declared(
        without("household", "taxHousehold"),
        {"household.children": rows, "taxHousehold.marital_status": "celibataire"},
    )
    caf = out["household"]
    assert isinstance(caf, r.FamilyQuotient)
    assert [(c.birth_name, c.given_names, c.birth_date) for c in caf.claimants] == [
        ("MARTIN", "CLAIRE MARIE", date(1988, 3, 14))
    ]
    assert [c.birth_date for c in caf.children] == [date(2023, 3, 12)]
    assert caf.provenance.agency == DECLARED_AGENCY


def test_a_single_situation_alone_makes_a_household_of_one() -> None:
    out = declared(without("household", "taxHousehold"), {"taxHousehold.marital_status": "veuf"})
    caf = out["household"]
    assert isinstance(caf, r.FamilyQuotient)
    assert len(caf.claimants) == 1 and caf.children == ()


def test_a_couple_declared_without_its_members_builds_nothing() -> None:
    out = declared(without("household", "taxHousehold"), {"taxHousehold.marital_status": "marie"})
    assert "household" not in out and "taxHousehold" not in out


def test_the_tax_households_situation_and_declarants() -> None:
    out = declared(
        person_records(),
        {
            "taxHousehold.marital_status": "divorce",
            "taxHousehold.declarants": [
                {"birth_name": "MARTIN", "given_names": "CLAIRE", "birth_date": "1988-03-14"}
            ],
            "taxHousehold.reference_tax_income": 9800.0,
        },
    )
    tax = out["taxHousehold"]
    assert isinstance(tax, r.TaxHousehold)
    assert tax.marital_status == "divorce" and tax.reference_tax_income == 9800
    assert [d.given_names for d in tax.declarants] == ["CLAIRE"]
    assert tax.income_year == 2024  # the DGFiP's year, which the rules match on


# --- benefits received, pensions, birth date --------------------------------------------------


def test_benefits_received_are_set_or_built() -> None:
    out = declared(
        without("benefits.asf", "benefits.css"),
        {
            "benefits.primeActivite.receiving": False,
            "benefits.asf.receiving": True,
            "healthCoverage.css_receiving": True,
        },
    )
    ppa, asf, css = out["benefits.primeActivite"], out["benefits.asf"], out["benefits.css"]
    assert isinstance(ppa, r.BenefitStatus) and ppa.receiving is False
    assert ppa.provenance.agency == DECLARED_AGENCY
    assert isinstance(asf, r.BenefitStatus) and (asf.benefit, asf.receiving) == ("asf", True)
    assert isinstance(css, r.CssStatus) and css.receiving is True


def test_pensions_declared_replace_the_cnavs() -> None:
    rows = [
        {
            "scheme": "CNAV",
            "kind": "droit_propre",
            "monthly_gross": 800.0,
            "monthly_net": 730.0,
            "since": "2020-04-01",
        }
    ]
    out = declared(person_records(), {"pension.pensions": rows, "benefits.aspa.receiving": False})
    retirement = out["pension"]
    assert isinstance(retirement, r.Retirement)
    assert retirement.pensions == (r.Pension("CNAV", "own_right", 800.0, 730.0, date(2020, 4, 1)),)
    assert retirement.aspa_receiving is False and retirement.aspa_monthly is None
    assert out["benefits.aspa"] == retirement
    assert retirement.provenance.agency == DECLARED_AGENCY


def test_a_corrected_total_of_pensions_scales_net_and_gross() -> None:
    out = declared(person_records(), {"pension.pensions[].monthly_net": 1641.5})  # doubled
    retirement = out["pension"]
    assert isinstance(retirement, r.Retirement)
    assert [(p.monthly_gross, p.monthly_net) for p in retirement.pensions] == [
        (1400.0, 1281.0),
        (400.0, 360.5),
    ]


def test_a_total_of_pensions_without_any_pension_is_ignored() -> None:
    out = declared(without("pension", "benefits.aspa"), {"pension.pensions[].monthly_net": 800.0})
    assert "pension" not in out


def test_the_birth_date() -> None:
    out = declared(person_records(), {"identity.birth_date": "1958-03-14"})
    civil = out["identity"]
    assert isinstance(civil, r.CivilStatus) and civil.birth_date == date(1958, 3, 14)
