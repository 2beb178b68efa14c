"""The ground truth is the law (OpenFisca-France) applied to the generated facts."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox import Population
from sandbox.draft import HouseholdDraft, PersonDraft
from sandbox.entitlement import AAH_AMOUNT
from sandbox.law import CSS_MONTHS, HouseholdLaw, by_law, rsa_by_law
from sandbox.months import add_years, age_on, first_day, parse_month
from sandbox.person import (
    Address,
    Housing,
    Identity,
    JobSeeker,
    Occupancy,
    Pension,
    Right,
    Stream,
)

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


def law(persons: list[PersonDraft], **kw: object) -> HouseholdLaw:
    """What the law gives one household of ``persons`` (tenants in Lyon by default)."""
    occupancy = kw.get("occupancy", "locataire")
    rent = kw.get("rent", 500.0)
    aid = kw.get("aid")
    draft = HouseholdDraft(
        0,
        "single",
        [p.index for p in persons],
        [],
        "celibataire",
        LYON,
        housing=Housing(occupancy, rent, 0.0, REF, "APL" if aid else None, aid),  # type: ignore[arg-type]
    )
    return by_law(persons, [draft], REF)[0]


def salaried(net: float) -> PersonDraft:
    salary = Stream("2" * 14, "employeur", "salaire", net, None, None)
    return adult(0, date(1990, 1, 15), activity="salarie", streams=[salary])


def test_small_earnings_give_the_prime_d_activite_and_a_css_tier_by_resources() -> None:
    low = law([salaried(800.0)])
    assert low.rsa == 0.0 and low.ppa == pytest.approx(336.6)
    assert low.css == ("free",) * CSS_MONTHS
    assert law([salaried(1000.0)]).css_now == "participation"
    higher = law([salaried(1200.0)])
    assert higher.ppa > 0 and higher.css_now == "none"


def test_the_css_ceiling_is_the_one_revalued_on_1_april_2025() -> None:
    # 12 × 855 € = 10,260 €: above the 10,166 € OpenFisca-France 176.1.8 still has, under
    # the 10,339 € in force from 2025-04-01; the CSS reads the twelve months before.
    assert law([salaried(855.0)]).css_now == "free"


def test_a_small_pension_at_65_gives_the_aspa_by_gross_pensions() -> None:
    net = Stream("1" * 14, "caisse_retraite", "pension", 600.0, None, None)
    pension = Pension("CNAV", "1" * 14, "droit_propre", 659.34, 600.0, date(2020, 2, 1))
    retiree = adult(0, date(1955, 1, 10), "retraite", streams=[net], pensions=[pension])
    got = law([retiree], occupancy="proprietaire", rent=None)
    # 1,034.28 € (the ASPA ceiling for one person in 2025) less the gross pension
    assert got.aspa == pytest.approx(374.94, abs=0.02) and got.aspa_age == (0,)
    younger = adult(0, date(1962, 1, 10), "retraite", streams=[net], pensions=[pension])
    assert law([younger], occupancy="proprietaire", rent=None).aspa == 0.0


def test_an_indemnified_job_seeker_s_past_salaries_are_abated_for_the_css() -> None:
    # CSS art. R861-8: 30 % off the salaries of the last twelve months while unemployment
    # benefits are paid. The France Travail registration is what makes it a job seeker.
    start = REF - 5
    salary = Stream("2" * 14, "employeur", "salaire", 1400.0, None, start - 1)
    benefit = Stream("3" * 14, "france_travail", "allocation_chomage", 900.0, start, None)
    seeker = JobSeeker("1234567A", first_day(start), None, 1)
    registered = adult(0, date(1985, 1, 15), "chomeur", streams=[salary, benefit])
    registered.job_seeker = seeker
    unregistered = adult(0, date(1985, 1, 15), "chomeur", streams=[salary, benefit])
    assert law([registered]).css_now == "participation"
    assert law([unregistered]).css_now == "none"


def test_every_flag_and_right_follows_the_law() -> None:
    for benefit in ("ppa", "aspa", "css"):
        assert any(getattr(p.truth, f"{benefit}_non_claimant") for p in POP.persons), benefit
    for person in POP.persons:
        truth, rights = person.truth, person.rights
        for benefit in ("rsa", "ppa", "aspa", "css"):
            if getattr(truth, f"{benefit}_non_claimant"):
                assert getattr(truth, f"{benefit}_eligible")
                assert getattr(rights, benefit) is None
        for benefit in ("ppa", "aspa"):
            if getattr(rights, benefit) is not None:
                assert getattr(truth, f"{benefit}_eligible")
        if truth.aspa_eligible:
            assert age_on(person.identity.date_naissance, POP.reference_date) >= 65
        if truth.css_participation:
            assert truth.css_eligible
        css = rights.css
        if css is not None:
            assert css.renewal == add_years(css.since, 1) > POP.reference_date


def test_some_css_rights_carry_a_tier_the_law_no_longer_gives() -> None:
    holders = [p for p in POP.persons if p.rights.css is not None and p.activity != "enfant"]
    changed = [
        p
        for p in holders
        if not p.truth.css_eligible or p.rights.css.with_increase != p.truth.css_participation  # type: ignore[union-attr]
    ]
    assert holders and changed and len(changed) < len(holders)
