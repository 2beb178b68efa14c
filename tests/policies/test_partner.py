"""A purpose's ``partner`` section: loaded and checked, and the only thing that lets a request
read about the partner the examined person's household names."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from exchange.catalogue import FIELDS
from policies import Catalogue, CatalogueError, decide_partner, load_catalogue
from tests.policies.test_loader import _base, _purpose, _write

BASIS = {
    "title": "CASF, art. R262-6",
    "href": "https://www.legifrance.gouv.fr/search/code?q=R262-6",
}
SHIPPED = load_catalogue(known_fields=frozenset(FIELDS))
FOR_PARTNER = frozenset({"identity", "resources", "benefits.aah"})


def _ask(
    catalogue: Catalogue,
    purpose: str,
    fields: frozenset[str] = FOR_PARTNER,
    on: date = date(2025, 7, 10),
    client: str = "demo-agency-app",
    caller: Any = "client",
) -> dict[str, str]:
    verdict = decide_partner(
        catalogue, client_id=client, caller=caller, purpose_id=purpose, fields=fields, on=on
    )
    return {"request": verdict.request.rule_id} | {f: d.rule_id for f, d in verdict.fields.items()}


@pytest.mark.parametrize(
    ("purpose", "client"),
    [
        ("eligibility_check", "demo-agency-app"),
        ("rsa_instruction", "demo-agency-app"),
        ("caf_rsa_ppa", "demo-caf"),
        ("housing_aid", "demo-caf"),
        ("css_attribution", "demo-cpam"),
        ("proactive_detection", "demo-proactive"),
        ("css_renewal", "demo-proactive"),
        ("aspa_instruction", "demo-carsat"),
    ],
)
def test_purposes_counting_the_household_resources_read_the_partner(
    purpose: str, client: str
) -> None:
    assert _ask(SHIPPED, purpose, client=client) == {
        "request": "partner.allowed",
        "identity": "partner.purpose_grant",
        "resources": "partner.purpose_grant",
        # The AAH the CAF pays the partner: counted by the RSA, the PPA, the CSS and the ASPA.
        "benefits.aah": "partner.purpose_grant",
    }
    verdict = decide_partner(
        SHIPPED,
        client_id=client,
        caller="client",
        purpose_id=purpose,
        fields=FOR_PARTNER,
        on=date(2025, 7, 10),
    )
    own = SHIPPED.purposes[purpose].legal_basis
    partner = verdict.request.legal_basis
    # The partner's accesses rest on the household-resources articles, not the purpose's own.
    assert partner is not None and partner != own and partner.href.startswith("https://")
    assert verdict.fields["resources"].legal_basis == partner
    assert verdict.fields["benefits.aah"].legal_basis == partner


# The purposes that evaluate the ASPA read the partner's CNAV record (CSS L815-9: the couple's
# resources, gross pensions included); the others do not.
ASPA_PURPOSES = {"eligibility_check", "proactive_detection", "aspa_instruction"}


@pytest.mark.parametrize(
    ("purpose", "client"),
    [
        ("eligibility_check", "demo-agency-app"),
        ("rsa_instruction", "demo-agency-app"),
        ("caf_rsa_ppa", "demo-caf"),
        ("housing_aid", "demo-caf"),
        ("css_attribution", "demo-cpam"),
        ("proactive_detection", "demo-proactive"),
        ("css_renewal", "demo-proactive"),
        ("aspa_instruction", "demo-carsat"),
    ],
)
def test_only_the_purposes_evaluating_the_aspa_read_the_partners_pension(
    purpose: str, client: str
) -> None:
    got = _ask(SHIPPED, purpose, frozenset({"pension"}), client=client)["pension"]
    expected = "partner.purpose_grant" if purpose in ASPA_PURPOSES else "partner.outside_purpose"
    assert got == expected


def test_only_the_listed_categories_of_the_partner_are_released() -> None:
    got = _ask(SHIPPED, "eligibility_check", frozenset({"household", "contact", "nothing"}))
    assert got == {
        "request": "partner.allowed",
        "household": "partner.outside_purpose",
        "contact": "partner.outside_purpose",
        "nothing": "field.unknown",
    }
    # The tax household is granted (a couple filing apart: the family benefits' N-2 base),
    # in eligibility_check's section.
    assert _ask(SHIPPED, "eligibility_check", frozenset({"taxHousehold"}))["taxHousehold"] == (
        "partner.purpose_grant"
    )


def test_purposes_without_the_section_never_read_a_partner() -> None:
    assert _ask(SHIPPED, "self_access", client="", caller="citizen") == dict.fromkeys(
        ("request", *FOR_PARTNER), "partner.not_granted"
    )
    assert _ask(SHIPPED, "citizen_prefill", client="demo-form-builder") == dict.fromkeys(
        ("request", *FOR_PARTNER), "partner.not_granted"
    )


def test_the_request_must_be_admissible_first() -> None:
    assert set(_ask(SHIPPED, "eligibility_check", client="demo-form-builder").values()) == {
        "purpose.client_not_allowed"
    }
    before = _ask(SHIPPED, "housing_aid", client="demo-caf", on=date(2020, 6, 1))
    assert set(before.values()) == {"partner.not_granted"}  # in force, no partner section yet


def test_a_dated_partner_section_loads(tmp_path: Path) -> None:
    files = _base()
    _purpose(files)["partner"] = {
        "legal_basis": BASIS,
        "categories": {"2024-06-01": ["civil", "money"], "2025-01-01": None},
    }
    catalogue = load_catalogue(_write(tmp_path, files))
    access = catalogue.purposes["help"].partner
    assert access is not None and access.legal_basis.title == BASIS["title"]
    assert access.categories_on(date(2024, 5, 31)) == frozenset()
    assert access.categories_on(date(2024, 6, 1)) == {"civil", "money"}
    assert access.categories_on(date(2025, 1, 1)) == frozenset()
    assert _ask(catalogue, "help", client="builder", on=date(2025, 2, 1))["request"] == (
        "partner.not_granted"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"legal_basis": BASIS, "categories": {"2024-01-01": ["civil", "health"]}},
            "purposes/help.yaml: partner.categories.2024-01-01[1]: unknown category 'health'",
        ),
        (
            {"legal_basis": BASIS, "categories": {"2024-01-01": ["civil"]}, "why": "x"},
            "purposes/help.yaml: partner.why: unknown key",
        ),
        (
            {"categories": {"2024-01-01": ["civil"]}},
            "purposes/help.yaml: partner: missing key 'legal_basis'",
        ),
        (
            {"legal_basis": {**BASIS, "href": "http://x"}, "categories": {"2024-01-01": []}},
            "purposes/help.yaml: partner.legal_basis.href: not an https URL",
        ),
        (
            {"legal_basis": BASIS, "categories": {}},
            "purposes/help.yaml: partner.categories: at least one dated provision is needed",
        ),
        (["civil"], "purposes/help.yaml: partner: expected a mapping, got list"),
    ],
    ids=["unknown category", "unknown key", "no legal basis", "http link", "no date", "a list"],
)
def test_a_broken_partner_section_is_refused(tmp_path: Path, section: Any, message: str) -> None:
    files = _base()
    _purpose(files)["partner"] = section
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_write(tmp_path, files))
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_consent_purpose_cannot_read_a_partner(tmp_path: Path) -> None:
    files = _base()
    _purpose(files)["lawful_ground"] = "consent"
    _purpose(files)["partner"] = {"legal_basis": BASIS, "categories": {"2024-01-01": ["civil"]}}
    with pytest.raises(CatalogueError, match="resting on consent cannot read a partner"):
        load_catalogue(_write(tmp_path, files))
