"""Filling forms from connector records: values, provenance, states, failures, repetitions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from connectors import records as r
from prefill import (
    Failure,
    FormDef,
    MissingSource,
    PrefilledForm,
    RecordMismatch,
    fields_needed,
    load_forms,
    prefill,
)
from tests.prefill.records import month, person_records, provenance

FORMS = load_forms()


def values(filled: PrefilledForm) -> dict[str, Any]:
    return {f.id: f.value for f in filled.fields}


def states(filled: PrefilledForm) -> dict[str, str]:
    return {f.id: f.state for f in filled.fields}


@pytest.mark.parametrize("form", FORMS.values(), ids=lambda f: f.id)
def test_every_sourced_field_of_every_form_is_found(form: FormDef) -> None:
    filled = prefill(form, person_records())
    assert [f.id for f in filled.fields] == [f.id for f in form.fields]
    json.dumps([f.value for f in filled.fields])  # JSON-able as they go to the client
    for definition, field in zip(form.fields, filled.fields, strict=True):
        if definition.source is None:
            assert (field.state, field.value, field.provenance) == ("TO_PROVIDE", None, None)
        elif definition.id != "date_renouvellement_css":  # the sample person has no CSS
            expected = "TO_CONFIRM" if definition.confirm else "KNOWN"
            assert field.state == expected, definition.id
            assert field.provenance is not None
    assert filled.missing_sources == ()


def test_civil_status_is_known_and_carries_the_registry_provenance() -> None:
    filled = prefill(FORMS["rsa"], person_records())
    v = values(filled)
    assert v["civilite"] == "Mme"
    assert v["prenoms"] == "CLAIRE MARIE"
    assert v["date_naissance"] == "1988-03-14"
    assert v["nom_usage"] == "DURAND"
    birth = filled.field("date_naissance")
    assert birth is not None and birth.state == "KNOWN"
    assert birth.provenance is not None
    assert (birth.provenance.agency, birth.provenance.as_of) == ("Civil registry", date(2025, 7, 1))


def test_address_reads_the_tax_household_address_with_its_provenance() -> None:
    filled = prefill(FORMS["rsa"], person_records())
    address = filled.field("adresse")
    assert address is not None
    assert address.value == "12 RUE DES LILAS\nAPPT 4"
    assert address.state == "TO_CONFIRM"
    assert address.provenance is not None and address.provenance.agency == "DGFIP"
    assert values(filled)["code_postal"] == "69003"


def test_resources_per_month_by_nature() -> None:
    rows = values(prefill(FORMS["rsa"], person_records()))["ressources_trimestre"]
    assert rows == [
        {
            "mois": "2025-04",
            "salaires": 800.0,
            "allocations_chomage": 300.0,
            "pensions": 0.0,
            "revenus_independants": 0.0,
        },
        {
            "mois": "2025-05",
            "salaires": 0.0,
            "allocations_chomage": 950.5,
            "pensions": 0.0,
            "revenus_independants": 0.0,
        },
        {
            "mois": "2025-06",
            "salaires": 400.0,
            "allocations_chomage": 500.0,
            "pensions": 0.0,
            "revenus_independants": 0.0,
        },
    ]


def test_aggregates_over_months_and_pensions() -> None:
    v = values(prefill(FORMS["aspa"], person_records()))
    assert v["salaires_3_mois"] == 1200.0
    assert v["allocations_chomage_3_mois"] == 1750.5
    assert v["ressources_12_mois"] == 3600.0 + 1750.5  # six months declared: all of them
    assert v["total_pensions_mensuel_net"] == 820.75
    assert v["percoit_aspa"] is True
    assert v["pensions"][1] == {
        "regime": "AGIRC-ARRCO",
        "type": "reversion",
        "montant_mensuel_brut": 200.0,
        "montant_mensuel_net": 180.25,
        "date_effet": "2021-01-01",
    }
    css = values(prefill(FORMS["css"], person_records()))
    assert css["salaires_12_mois"] == 3600.0
    assert css["organisme_assurance_maladie"] == "CPAM du Rhône"


def test_household_children_as_a_repetition() -> None:
    filled = prefill(FORMS["rsa"], person_records())
    children = filled.field("enfants")
    assert children is not None and children.state == "TO_CONFIRM"
    assert children.value == [
        {"prenom": "LÉA", "nom": "MARTIN", "date_naissance": "2015-09-01", "sexe": "F"},
        {"prenom": "HUGO", "nom": "MARTIN", "date_naissance": "2018-02-20", "sexe": "M"},
    ]
    assert children.provenance is not None and children.provenance.agency == "CNAF"


def test_no_children_is_an_answer_to_confirm_not_a_gap() -> None:
    records = person_records()
    household = records["household"]
    assert isinstance(household, r.FamilyQuotient)
    records["household"] = replace(household, children=())
    children = prefill(FORMS["rsa"], records).field("enfants")
    assert children is not None
    assert (children.value, children.state) == ([], "TO_CONFIRM")


def test_housing_occupancy_in_the_forms_french_code() -> None:
    v = values(prefill(FORMS["ppa"], person_records()))
    assert (v["statut_logement"], v["loyer_mensuel"], v["percoit_aide_logement"]) == (
        "locataire",
        500.0,
        True,
    )


CATEGORIES = {
    "resources": "ressources",
    "housing": "logement",
    "pension": "retraite",
    "benefits.housingAid": "logement",
}


def test_failed_or_denied_fields_are_to_provide_and_listed_with_why() -> None:
    form = FORMS["rsa"]
    failures = {
        "resources": Failure("AGENCY_UNAVAILABLE", "GIP-MDS did not answer"),
        "housing": Failure("FORBIDDEN", "the purpose does not release logement"),
        "pension": Failure("TIMEOUT", "CNAV took too long"),
    }
    filled = prefill(form, person_records(), failures, CATEGORIES)
    s = states(filled)
    assert s["ressources_trimestre"] == "TO_PROVIDE"
    assert s["statut_logement"] == s["loyer_mensuel"] == "TO_PROVIDE"
    assert s["percoit_aide_logement"] == "KNOWN"  # benefits.housingAid did not fail
    field = filled.field("loyer_mensuel")
    assert field is not None and (field.value, field.provenance) == (None, None)
    assert (field.reason, field.categories) == ("FORBIDDEN", ("logement",))
    resources = filled.field("ressources_trimestre")
    assert resources is not None and resources.reason == "AGENCY_UNAVAILABLE"
    # pension: not read by rsa, so not missing
    assert [m.source for m in filled.missing_sources] == ["housing", "resources"]
    housing, res = filled.missing_sources
    assert housing == MissingSource(
        "housing",
        "FORBIDDEN",
        "the purpose does not release logement",
        ("logement",),
        ("statut_logement", "loyer_mensuel", "charges_mensuelles"),
    )
    assert (res.code, res.categories) == ("AGENCY_UNAVAILABLE", ("ressources",))
    assert "ressources_trimestre" in res.fields
    assert filled.consent_required == ()  # nothing was withheld for lack of consent


def test_a_source_withheld_for_lack_of_consent_asks_for_consent() -> None:
    form = FORMS["rsa"]
    failures = {
        "resources": Failure("CONSENT_REQUIRED", "the person has not consented to ressources"),
        "housing": Failure("CONSENT_REQUIRED", "the person has not consented to logement"),
        "benefits.housingAid": Failure("AGENCY_UNAVAILABLE", "CAF down"),
    }
    filled = prefill(form, person_records(), failures, CATEGORIES)
    s = states(filled)
    assert s["ressources_trimestre"] == s["loyer_mensuel"] == "CONSENT_REQUIRED"
    assert s["percoit_aide_logement"] == "TO_PROVIDE"  # failed: not a matter of consent
    assert s["nom_naissance"] == "KNOWN"
    field = filled.field("ressources_trimestre")
    assert field is not None and field.value is None and field.provenance is None
    assert (field.reason, field.categories) == ("CONSENT_REQUIRED", ("ressources",))
    assert {m.source: m.code for m in filled.missing_sources} == {
        "resources": "CONSENT_REQUIRED",
        "housing": "CONSENT_REQUIRED",
        "benefits.housingAid": "AGENCY_UNAVAILABLE",
    }
    assert filled.consent_required == ("logement", "ressources")


def test_failures_without_categories_or_codes_are_still_told() -> None:
    filled = prefill(FORMS["rsa"], person_records(), failures=["housing"])
    (missing,) = filled.missing_sources
    assert (missing.source, missing.code, missing.categories) == ("housing", "UNAVAILABLE", ())
    field = filled.field("loyer_mensuel")
    assert field is not None and (field.state, field.reason) == ("TO_PROVIDE", "UNAVAILABLE")


def test_a_field_nobody_holds_has_no_reason() -> None:
    filled = prefill(FORMS["rsa"], person_records(), {"housing": Failure("FORBIDDEN", "no")})
    field = filled.field("nationalite")  # no source: the person says
    assert field is not None and (field.state, field.reason, field.categories) == (
        "TO_PROVIDE",
        None,
        (),
    )


def test_absent_records_and_absent_values_are_to_provide() -> None:
    records = person_records()
    del records["employment.status"]
    records["healthCoverage"] = None
    identity = records["identity"]
    assert isinstance(identity, r.CivilStatus)
    records["identity"] = replace(identity, usage_name=None, birth_place=None)
    filled = prefill(FORMS["rsa"], records)
    s = states(filled)
    assert s["inscrit_france_travail"] == s["identifiant_france_travail"] == "TO_PROVIDE"
    assert s["nom_usage"] == s["commune_naissance"] == "TO_PROVIDE"
    assert filled.missing_sources == ()
    assert states(prefill(FORMS["css"], records))["organisme_assurance_maladie"] == "TO_PROVIDE"


def test_fewer_months_than_asked_gives_the_months_there_are() -> None:
    records = person_records()
    records["resources"] = r.Resources(
        (month("2025-06", salary=100.0),), ("2025-04", "2025-05"), provenance("GIP-MDS", "x")
    )
    v = values(prefill(FORMS["ppa"], records))
    assert [row["mois"] for row in v["revenus_activite"]] == ["2025-06"]


def test_a_record_of_the_wrong_type_is_a_defect() -> None:
    records = person_records()
    records["identity"] = records["housing"]
    with pytest.raises(RecordMismatch, match="identity: expected CivilStatus"):
        prefill(FORMS["rsa"], records)


def test_only_needed_records_are_read() -> None:
    form = FORMS["aspa"]
    records = {k: v for k, v in person_records().items() if k in fields_needed(form)}
    filled = prefill(form, records)
    assert states(filled)["percoit_aspa"] == "KNOWN"
