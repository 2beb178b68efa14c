"""A field's value in words where the form holds a code."""

from __future__ import annotations

from prefill import FieldDef, load_forms
from prefill.display import value_label


def test_codes_in_words() -> None:
    rsa = load_forms()["rsa"]
    housing, country = rsa.field("statut_logement"), rsa.field("pays_naissance")
    assert housing is not None and country is not None
    assert value_label(housing, "heberge_gratuit") == "Hébergé(e) gratuitement"
    assert value_label(country, "99100") == "France"
    assert value_label(country, "99999") is None  # no such code: nothing invented
    commune = rsa.field("commune_naissance")
    assert commune is not None
    assert value_label(commune, "69123") == "Lyon (69)"
    assert value_label(commune, "99999") is None
    month = FieldDef("mois", "Mois", "month")
    assert value_label(month, "2026-08") == "août 2026"


def test_words_stay_words() -> None:
    rsa = load_forms()["rsa"]
    name = rsa.field("nom_naissance")
    assert name is not None
    assert value_label(name, "DUPONT") is None
    assert value_label(name, None) is None
