"""What each benefit's rules read (``eligibility.inputs.fields_for``): a campaign for one benefit
reads those fields only."""

from __future__ import annotations

from datetime import date

import pytest

from eligibility.inputs import BENEFIT_FIELDS, CNAV_FIELDS, INPUT_FIELDS, fields_for

MONTH = "2025-06"
YOUNG = date(1990, 1, 15)  # 35 in June 2025
STUDIES = {"studentStatus", "studentGrant"}
OLD = date(1958, 3, 10)  # 67


def test_every_benefit_reads_a_part_of_what_the_rules_may_read() -> None:
    for benefit, fields in BENEFIT_FIELDS.items():
        assert fields <= INPUT_FIELDS, benefit
        assert {"identity", "household", "resources", "taxHousehold"} <= fields, benefit


@pytest.mark.parametrize(
    ("benefit", "own", "unread"),
    [
        ("rsa", "benefits.rsa", {"benefits.css", "benefits.primeActivite", "benefits.aspa"}),
        ("ppa", "benefits.primeActivite", {"benefits.css", "benefits.rsa", "benefits.aspa"}),
        ("css", "benefits.css", {"benefits.rsa", "benefits.primeActivite", "benefits.aspa"}),
    ],
)
def test_a_working_age_person_is_read_for_one_benefit_without_the_others(
    benefit: str, own: str, unread: set[str]
) -> None:
    fields = fields_for((benefit,), YOUNG, MONTH)
    assert own in fields and "housing" in fields and "benefits.aah" in fields
    # The RSA excludes students, and the free CSS follows the RSA OpenFisca computes.
    assert "studentStatus" in fields
    assert not fields & unread
    # The CNAV's record only serves the ASPA the rules compute for someone of its age.
    assert not fields & CNAV_FIELDS


@pytest.mark.parametrize("benefit", ["rsa", "ppa", "css"])
def test_the_cnav_record_is_read_from_the_aspa_age_or_when_the_age_is_unknown(
    benefit: str,
) -> None:
    assert CNAV_FIELDS <= fields_for((benefit,), OLD, MONTH)
    assert CNAV_FIELDS <= fields_for((benefit,), None, MONTH)
    # 60 years in the month evaluated: the rules' own margin below the earliest ASPA age.
    assert CNAV_FIELDS <= fields_for((benefit,), date(1965, 6, 30), MONTH)
    assert not CNAV_FIELDS & fields_for((benefit,), date(1965, 7, 1), MONTH)


def test_the_aspa_reads_pensions_and_resources_not_housing_studies_or_family_benefits() -> None:
    fields = fields_for(("aspa",), OLD, MONTH)
    assert CNAV_FIELDS <= fields and "resources" in fields
    assert not fields & {
        "housing",
        "benefits.housingAid",
        "studentStatus",
        "benefits.asf",
        "benefits.aah",
        "benefits.rsa",
        "employment.status",
    }


def test_several_benefits_read_the_union_and_an_unknown_one_reads_everything() -> None:
    both = fields_for(("rsa", "css"), YOUNG, MONTH)
    assert both == fields_for(("rsa",), YOUNG, MONTH) | fields_for(("css",), YOUNG, MONTH)
    # At 35 housing aid does not depend on studies (CCH R822-20: under 28 only).
    assert fields_for(("aide_logement",), YOUNG, MONTH) == INPUT_FIELDS - STUDIES
    assert fields_for(("aide_logement",), date(2000, 1, 15), MONTH) == INPUT_FIELDS
    assert fields_for(("something_else",), YOUNG, MONTH) == INPUT_FIELDS
