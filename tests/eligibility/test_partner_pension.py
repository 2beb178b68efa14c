"""A pensioner couple's ASPA: the partner's gross pensions, from their CNAV record.

The ASPA counts the couple's resources, gross (CSS L815-9; OpenFisca reads ``retraite_brute``):
with the partner's record it is decided; without it their gross pensions lie between the net
and the net / 0.88, which can leave it undecided (docs/eligibility.md, "Couples").
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import records
from eligibility.adapter import adapt
from eligibility.engine import evaluate_one
from eligibility.golden import situation_to_person
from eligibility.inputs import PARTNER_FIELDS, optional_partner_fields, with_partner
from eligibility.model import PersonData

MONTH = "2025-06"
LYON = {"occupancy": "tenant", "rent": 500, "commune": "69123", "history_months": 24}
UNREAD = "partner gross pensions (counted by ASPA)"


def _pensions(net: float) -> dict[str, Any]:
    return {
        "months": 24,
        "payments": [{"nature": "pension", "net_social": net, "net_taxable": net + 20}],
    }


COUPLE: dict[str, Any] = {
    "person": {"birth_date": "1952-03-10"},
    "resources": _pensions(450),
    "retirement": {"pensions": [{"gross": 500, "net": 450, "since": date(2015, 1, 1)}]},
    "partner": {"birth_date": "1950-07-02", "sex": "M"},
    "partner_resources": _pensions(600),
    "marital_status": "marie",
    "housing": LYON,
}
PARTNER_RECORD = {"pensions": [{"gross": 640, "net": 600, "since": date(2012, 9, 1)}]}


def _aspa(person: PersonData) -> Any:
    (result,) = evaluate_one(person, ("aspa",), MONTH)
    return result


def test_the_partners_record_decides_the_aspa(tbs: Any) -> None:
    person = situation_to_person({**COUPLE, "partner_retirement": PARTNER_RECORD}, MONTH)
    result = _aspa(person)
    assert result.status == "ELIGIBLE", result
    assert result.missing == ()
    # The couple's ceiling (1605.73 €/month from April 2025) less their gross pensions.
    assert result.monthly_amount == pytest.approx(1605.73 - 500 - 640, abs=1.0)
    fed = {i.name: i.value for i in result.inputs}
    assert fed["partner retraite_brute"] == "640.00 €/month (gross pensions)"
    assert fed["retraite_brute"] == "500.00 €/month (gross pensions)"


def test_without_the_partners_record_the_bounds_stay(tbs: Any) -> None:
    person = situation_to_person(COUPLE, MONTH)
    household = adapt(person, MONTH)
    partner = next(m for m in household.members if m.role == "partner")
    # Evaluated first at the low bound: gross as net.
    assert partner.incomes["retraite_brute"] == partner.incomes["retraite_nette"]
    result = _aspa(person)
    # Between 600 and 681.82 € of gross pensions, entitled either way; the amount is not known.
    assert (result.status, result.monthly_amount) == ("ELIGIBLE", None), result
    assert result.missing == (UNREAD,)


def test_a_partner_record_is_not_read_for_a_partner_too_young(tbs: Any) -> None:
    young = {**COUPLE["partner"], "birth_date": "1980-01-01"}
    situation = {**COUPLE, "partner": young, "partner_retirement": PARTNER_RECORD}
    household = adapt(situation_to_person(situation, MONTH), MONTH)
    partner = next(m for m in household.members if m.role == "partner")
    # Too young for the ASPA: their record is not fed (nor would it be read).
    assert "retraite_brute" not in partner.incomes


def _member(birth: date | None) -> records.HouseholdMember:
    return records.HouseholdMember("PARTNER", None, "Camille", birth, "M")


def test_the_partners_pension_is_asked_only_for_the_aspa_at_its_age() -> None:
    old, young = _member(date(1960, 1, 1)), _member(date(1970, 1, 1))
    couple = situation_to_person(COUPLE, MONTH)
    assert optional_partner_fields(("rsa", "aspa"), old, MONTH, couple) == {"pension"}
    assert optional_partner_fields(("rsa", "css"), old, MONTH, couple) == frozenset()
    assert optional_partner_fields(("aspa",), young, MONTH, couple) == frozenset()
    # An unknown birth date rules nothing out.
    assert optional_partner_fields(("aspa",), _member(None), MONTH, couple) == {"pension"}
    assert "pension" not in PARTNER_FIELDS


def test_with_partner_carries_the_partners_record() -> None:
    person = situation_to_person({**COUPLE, "partner_retirement": PARTNER_RECORD}, MONTH)
    fields = {"resources": person.partner_resources, "pension": person.partner_retirement}
    bare = situation_to_person({**COUPLE, "partner_resources": None}, MONTH)
    completed = with_partner(bare, fields)
    assert completed is not None
    assert completed.partner_retirement == person.partner_retirement
    without = with_partner(bare, {"resources": person.partner_resources})
    assert without is not None and without.partner_retirement is None
