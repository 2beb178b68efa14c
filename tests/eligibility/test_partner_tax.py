"""A couple filing apart: the partner's own tax household is read for the family base.

The means-tested family benefits that the RSA, the PPA and the CSS count are based on the
couple's income of year N-2 (CSS R532-1 and R532-3). Married and PACS partners file one
return; others file their own, and the partner's is read with their resources when the
purpose allows it (``optional_partner_fields``), then summed (``eligibility.stated``).
"""

from __future__ import annotations

from typing import Any

from connectors import records
from eligibility.golden import situation_to_person
from eligibility.inputs import (
    PARTNER_FIELDS,
    PARTNER_TAX_FIELD,
    files_apart,
    optional_partner_fields,
    with_partner,
)

MONTH = "2025-06"
FAMILY: dict[str, Any] = {
    "person": {"birth_date": "1992-03-03"},
    "partner": {"birth_date": "1993-04-04"},
    "children": [{"birth_date": "2024-09-01"}],
    "marital_status": "celibataire",
    "tax": {"year": 2023, "rfr": 14000},
    "resources": {"months": 24, "payments": []},
    "partner_resources": {"months": 24, "payments": []},
}
PARTNER = records.HouseholdMember("PARTNER", None, "Camille", None, "M")


def test_the_partners_tax_household_is_asked_only_for_a_family_filing_apart() -> None:
    apart = situation_to_person(FAMILY, MONTH)
    assert files_apart(apart, MONTH)
    for benefits in (("rsa",), ("ppa",), ("css",), ("aide_logement", "ppa")):
        assert optional_partner_fields(benefits, PARTNER, MONTH, apart) == {PARTNER_TAX_FIELD}
    # Neither housing aid nor the ASPA counts the family benefits.
    assert optional_partner_fields(("aide_logement",), PARTNER, MONTH, apart) == frozenset()
    assert PARTNER_TAX_FIELD not in PARTNER_FIELDS


def test_one_return_another_year_or_no_child_reads_nothing_more() -> None:
    for situation in (
        {**FAMILY, "marital_status": "marie"},
        {**FAMILY, "marital_status": "pacse"},
        {**FAMILY, "children": []},
        # The person's return of another year: their own base is already unknown.
        {**FAMILY, "tax": {"year": 2024, "rfr": 14000}},
    ):
        data = situation_to_person(situation, MONTH)
        assert not files_apart(data, MONTH)
        assert optional_partner_fields(("ppa",), PARTNER, MONTH, data) == frozenset()
    no_tax = {k: v for k, v in FAMILY.items() if k not in ("tax", "marital_status")}
    assert not files_apart(situation_to_person(no_tax, MONTH), MONTH)


def test_with_partner_carries_the_partners_tax_household() -> None:
    full = situation_to_person({**FAMILY, "partner_tax": {"rfr": 46000}}, MONTH)
    bare = situation_to_person(FAMILY, MONTH)
    fields = {"resources": full.partner_resources, PARTNER_TAX_FIELD: full.partner_tax}
    completed = with_partner(bare, fields)
    assert completed is not None and completed.partner_tax == full.partner_tax
    without = with_partner(bare, {"resources": full.partner_resources})
    assert without is not None and without.partner_tax is None
