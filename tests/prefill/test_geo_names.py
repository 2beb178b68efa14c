"""The départements' names a person reads (« Seine-Saint-Denis (93) »)."""

from __future__ import annotations

from prefill import geo


def test_every_departement_has_its_name() -> None:
    names = geo.departement_names()
    assert len(names) == 101  # 96 in metropolitan France, 5 overseas
    assert all(geo.DEPARTEMENT.fullmatch(code) for code in names)
    assert names["93"] == "Seine-Saint-Denis" and names["2A"] == "Corse-du-Sud"
    assert names["974"] == "La Réunion"


def test_a_label_names_the_departement_and_keeps_its_code() -> None:
    assert geo.departement_label("93") == "Seine-Saint-Denis (93)"
    assert geo.departement_label("988") == "988"  # a collectivité, not a département
