"""The ASPA answers for the person asked about, not for their household.

OpenFisca-France computes ``aspa`` for the famille; only its members of ASPA age
(``aspa_eligibilite``: 65, or the legal retirement age with an incapacity) are entitled to it.
A 62-year-old whose partner is 67 is NOT_ELIGIBLE, with the reason; the partner, asked about,
is ELIGIBLE; one request at a time or in a campaign's vectorised simulation alike.
"""

from __future__ import annotations

from typing import Any

import pytest

from eligibility.adapter import adapt
from eligibility.criteria import ASPA_OTHER_MEMBER
from eligibility.engine import evaluate_one, evaluate_population
from eligibility.golden import situation_to_person
from eligibility.model import BenefitResult, PersonData
from eligibility.simulation import simulate

MONTH = "2025-06"
AGED_62, AGED_67 = "1963-01-10", "1958-02-02"
LYON = {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24}
NONE = {"months": 24, "payments": []}
# The single rate (one member entitled) from April 2025: the couple has no resources.
SINGLE_RATE = 1034.29


def _couple(person: str, partner: str, **more: Any) -> PersonData:
    situation = {
        "person": {"birth_date": person},
        "partner": {"birth_date": partner},
        "marital_status": "marie",
        "resources": NONE,
        "partner_resources": NONE,
        "retirement": {"aspa_receiving": False, "pensions": []},
        "housing": LYON,
        **more,
    }
    return situation_to_person(situation, MONTH)


def _aspa(person: PersonData) -> BenefitResult:
    (result,) = evaluate_one(person, ("aspa",), MONTH)
    return result


def _not_the_persons(result: BenefitResult) -> None:
    assert (result.status, result.monthly_amount) == ("NOT_ELIGIBLE", None), result
    assert ASPA_OTHER_MEMBER in result.criteria
    assert not result.non_take_up and result.missing == ()


def _the_persons(result: BenefitResult) -> None:
    assert (result.status, result.non_take_up) == ("ELIGIBLE", True), result
    assert result.monthly_amount == pytest.approx(SINGLE_RATE, abs=0.01)
    assert ASPA_OTHER_MEMBER not in result.criteria


def test_the_household_is_entitled_through_the_older_member_only(tbs: Any) -> None:
    younger, older = _couple(AGED_62, AGED_67), _couple(AGED_67, AGED_62)
    raws = simulate([adapt(younger, MONTH), adapt(older, MONTH)], ["aspa"])
    # The same couple: the same household amount, the person asked about's own eligibility.
    assert [r["aspa"] for r in raws] == pytest.approx([SINGLE_RATE] * 2, abs=0.01)
    assert [r["aspa_eligibilite"] for r in raws] == [0.0, 1.0]


def test_asked_about_one_at_a_time(tbs: Any) -> None:
    _not_the_persons(_aspa(_couple(AGED_62, AGED_67)))
    _the_persons(_aspa(_couple(AGED_67, AGED_62)))


def test_asked_about_in_a_campaign(tbs: Any) -> None:
    single = situation_to_person(
        {"person": {"birth_date": AGED_62}, "resources": NONE, "housing": LYON}, MONTH
    )
    persons = [_couple(AGED_62, AGED_67), single, _couple(AGED_67, AGED_62)]
    younger, alone, older = (r for (r,) in evaluate_population(persons, ("aspa",), MONTH))
    _not_the_persons(younger)
    _the_persons(older)
    # Under its age without a partner of it: no household ASPA, no reason about a partner.
    assert alone.status == "NOT_ELIGIBLE" and ASPA_OTHER_MEMBER not in alone.criteria


def test_an_unknown_gross_pension_does_not_make_the_younger_entitled(tbs: Any) -> None:
    """Without a CNAV record a partner's gross pension is taken at its bounds, which changes
    the couple's amount; it cannot make a 62-year-old entitled."""
    pension = {"months": 24, "payments": [{"nature": "pension", "net_social": 600,
                                           "net_taxable": 620}]}  # fmt: skip
    younger = _couple(AGED_62, AGED_67, partner_resources=pension)
    assert len(adapt(younger, MONTH).variants) == 1
    result = _aspa(younger)
    _not_the_persons(result)
    assert result.criteria[-2] == ASPA_OTHER_MEMBER  # then the note on the unknowns
    # The same couple asked about the other way round: its amount is not known.
    older = _aspa(_couple(AGED_67, AGED_62, partner_resources=pension))
    assert (older.status, older.monthly_amount) == ("ELIGIBLE", None), older


def test_both_of_age_are_both_entitled(tbs: Any) -> None:
    for person, partner in ((AGED_67, "1955-05-05"), ("1955-05-05", AGED_67)):
        result = _aspa(_couple(person, partner))
        assert result.status == "ELIGIBLE" and ASPA_OTHER_MEMBER not in result.criteria
