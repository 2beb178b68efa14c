"""The RSA ground truth is the law (OpenFisca-France) applied to the generated facts."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox import Population
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.entitlement import AAH_AMOUNT, rsa_by_law
from sandbox.months import add_years, age_on, first_day, parse_month
from sandbox.person import Address, Housing, Identity, Occupancy, Right, Stream

REF = parse_month("2025-06")
LYON = Address(1, "RUE DE LA REPUBLIQUE", "69123")


def adult(index: int, born: date, activity: str = "inactif", **kw: object) -> PersonDraft:
    identity = Identity("TEST", ("Camille",), born, "F", "99100", "69123")
    return PersonDraft(index, identity, 0, activity, **kw)  # type: ignore[arg-type]


def household(
    persons: list[PersonDraft],
    children: int = 0,
    occupancy: Occupancy = "locataire",
    rent: float | None = 500.0,
    aid: float | None = 200.0,
) -> float:
    """The RSA by law of one household: the adults given, then ``children`` aged 2."""
    kids = [
        PersonDraft(
            len(persons) + k,
            Identity("TEST", ("Lou",), date(2023, 3, 1), "M", "99100", "69123"),
            0,
            "enfant",
        )
        for k in range(children)
    ]
    draft = HouseholdDraft(
        0,
        "single_parent" if children else "single",
        [p.index for p in persons],
        [k.index for k in kids],
        "celibataire",
        LYON,
        housing=Housing(occupancy, rent, 0.0, REF, "APL" if aid else None, aid),
    )
    return rsa_by_law([*persons, *kids], [draft], REF)[0]


def test_no_income_tenant_with_housing_aid_gets_the_rsa_less_the_housing_flat_rate() -> None:
    # 646.52 € (single person, from 2025-04-01) less the 12 % housing flat rate (R262-10).
    assert household([adult(0, date(1990, 1, 15))]) == pytest.approx(568.94)


def test_without_housing_aid_a_tenant_gets_the_whole_amount() -> None:
    assert household([adult(0, date(1990, 1, 15))], aid=None) == pytest.approx(646.52)


def test_the_aah_is_counted_in_the_resources() -> None:
    person = adult(0, date(1980, 5, 2), rights={"aah": Right(date(2020, 1, 1), AAH_AMOUNT)})
    assert household([person]) == 0.0


def test_under_25_with_a_child_is_entitled() -> None:
    # L262-4, 1°: the age condition does not apply to a parent.
    young = adult(0, date(2002, 9, 1))
    assert household([young], children=1) > 0
    assert household([adult(0, date(2002, 9, 1))]) == 0.0


def test_a_student_is_not_entitled() -> None:
    # L262-4, 3°.
    assert household([adult(0, date(1999, 1, 2), activity="etudiant")]) == 0.0


def test_a_small_pension_before_the_aspa_age_leaves_a_differential_rsa() -> None:
    pension = Stream("1" * 14, "caisse_retraite", "pension", 445.52, None, None)
    person = adult(0, date(1962, 1, 10), activity="retraite", streams=[pension])
    # 646.52 − 445.52 − 77.58 (housing flat rate)
    assert household([person]) == pytest.approx(123.42)


def test_earnings_above_the_guaranteed_amount_give_no_rsa() -> None:
    salary = Stream("2" * 14, "employeur", "salaire", 800.0, None, None)
    assert household([adult(0, date(1990, 1, 15), activity="salarie", streams=[salary])]) == 0.0


POP = Population.generate(3000, seed=11)


def test_the_truth_and_the_rights_follow_the_rsa_by_law() -> None:
    eligible = [p for p in POP.persons if p.truth.rsa_eligible]
    assert eligible
    for person in POP.persons:
        if person.truth.rsa_non_claimant:
            assert person.truth.rsa_eligible and person.rights.rsa is None
        if person.rights.rsa is not None:
            assert person.truth.rsa_eligible and person.rights.rsa.since <= POP.reference_date


def test_no_retiree_is_paid_a_pension_before_the_age_drawn() -> None:
    for person in POP.persons:
        for pension in person.pensions:
            born = person.identity.date_naissance
            assert pension.since >= add_years(born, 62)
            assert pension.since <= first_day(REF)
            assert age_on(born, POP.reference_date) >= 62
