"""Missing data answers CANNOT_EVALUATE only when it could change the answer."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from eligibility import BENEFITS, evaluate_population
from eligibility.adapter import adapt
from eligibility.aspa_age import aspa_age, too_young
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.model import PersonData
from eligibility.simulation import simulate

ASPA = "prestations_sociales.solidarite_insertion.minimum_vieillesse.aspa.age_min"
RETIREMENT = "prestations_sociales.prestations_etat_de_sante.invalidite.aah.age_legal_retraite"


def _node(parameters: Any, path: str) -> Any:
    for part in path.split("."):
        parameters = parameters.children[part]
    return parameters


def _person(birth: str, month: str = "2025-06", **more: Any) -> PersonData:
    situation = {
        "person": {"birth_date": birth},
        "resources": {
            "months": 24,
            "missing": ["2025-03"],
            "payments": [{"nature": "pension", "net_social": 300, "net_taxable": 310}],
        },
        "housing": {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24},
        **more,
    }
    return situation_to_person(situation, month)


@pytest.mark.parametrize("month", ["2016-06", "2023-08", "2023-09", "2025-06", "2026-12"])
def test_the_aspa_age_is_the_law_s(tbs: Any, month: str) -> None:
    on = f"{month}-01"
    law = min(_node(tbs.parameters, path)(on) for path in (ASPA, RETIREMENT))
    assert aspa_age(month) == pytest.approx(law)


def test_the_age_is_counted_on_the_first_day_of_the_month() -> None:
    # 64 from 2023-09 (CSS L161-17-2); born 1961-06-15, 64 on 2025-07-01 only.
    assert aspa_age("2025-06") == 64
    assert too_young(_person("1961-06-15"), "2025-06") is not None
    assert too_young(_person("1961-06-15", "2025-07"), "2025-07") is None
    assert too_young(_person("1961-06-01"), "2025-06") is None


def test_aspa_under_its_age_is_decided_whatever_is_missing() -> None:
    answers = {a.benefit: a for a in evaluate_one(_person("1990-01-15"), BENEFITS, "2025-06")}
    aspa = answers["aspa"]
    assert aspa.status == "NOT_ELIGIBLE" and aspa.missing == () and aspa.monthly_amount is None
    assert "âge minimal de l'ASPA (64 ans" in aspa.criteria[0].text
    assert aspa.criteria[0].href.startswith("https://")
    # Resource-tested benefits still depend on the missing month.
    assert answers["rsa"].status == "CANNOT_EVALUATE"
    assert answers["rsa"].missing == ("resources 2025-03",)


def test_without_any_history_too() -> None:
    young = dataclasses.replace(_person("1990-01-15"), resources=None)
    for answers in (
        evaluate_one(young, BENEFITS, "2025-06"),
        evaluate_population([young], BENEFITS, "2025-06")[0],
    ):
        statuses = {a.benefit: a.status for a in answers}
        assert statuses.pop("aspa") == "NOT_ELIGIBLE"
        assert set(statuses.values()) == {"CANNOT_EVALUATE"}
    [aspa] = evaluate_one(young, ["aspa"], "2025-06")
    [born] = aspa.inputs
    assert (born.name, born.value) == ("date_naissance", "1990-01-15")


@pytest.mark.parametrize(
    ("birth", "more"),
    [
        ("1958-01-15", {}),  # the claimant is 67
        ("1990-01-15", {"partner": {"birth_date": "1959-02-01"}}),  # the partner is 66
        ("1990-01-15", {"partner": {"birth_date": None}}),  # the partner's age is unknown
        ("1990-01-15", {"caf_file": False}),  # the couple is unknown
    ],
)
def test_a_member_who_may_be_of_age_leaves_the_missing_data_decisive(
    birth: str, more: dict[str, Any]
) -> None:
    [aspa] = evaluate_one(_person(birth, **more), ["aspa"], "2025-06")
    assert aspa.status == "CANNOT_EVALUATE" and aspa.missing


def test_openfisca_pays_no_aspa_under_its_age_at_either_bound(tbs: Any) -> None:
    # The golden check: the missing month at zero income (the most favourable bound) and at
    # the other months' pension, by OpenFisca itself, with the report of missing data lifted.
    person = _person("1962-03-10", partner={"birth_date": "1963-11-20"})
    household = adapt(person, "2025-06")
    assert household.missing["aspa"]
    at_zero = dataclasses.replace(household, missing={})
    claimant = household.members[0]
    window = household.months.index("2025-03")
    pensions = {
        name: tuple(v if i != window else values[window - 1] for i, v in enumerate(values))
        for name, values in claimant.incomes.items()
    }
    filled = dataclasses.replace(
        at_zero, members=(dataclasses.replace(claimant, incomes=pensions), *household.members[1:])
    )
    assert [raw["aspa"] for raw in simulate([at_zero, filled], ["aspa"])] == [0.0, 0.0]
    [aspa] = evaluate_one(person, ["aspa"], "2025-06")
    assert aspa.status == "NOT_ELIGIBLE"
