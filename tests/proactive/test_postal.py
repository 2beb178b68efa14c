"""Addresses laid out per NF Z10-011: the order of the lines, 38 characters, capitals
without accents, abbreviations only to fit, and what is refused."""

from __future__ import annotations

import pytest

from connectors.records import PostalAddress
from proactive.postal import WIDTH, AddressError, Recipient, abbreviate, layout, plain

CLAIRE = Recipient("F", "Claire", "Martin-Lefèvre")
PAUL = Recipient("M", "Paul", "N'Diaye")


def caf(
    street: str | None,
    town: tuple[str | None, str | None],
    *,
    complement: str | None = None,
    building: str | None = None,
    locality: str | None = None,
    country: str | None = "FRANCE",
) -> PostalAddress:
    code, city = town
    return PostalAddress(
        (),
        code,
        city,
        None,
        country,
        recipient="Madame MARTIN CLAIRE",
        complement=complement,
        building=building,
        street=street,
        locality=locality,
    )


def test_a_plain_address_has_the_recipient_first_and_the_town_last() -> None:
    tax = PostalAddress(("12 rue des Lilas",), "87000", "Limoges", "87085", "FRANCE")
    assert layout(tax, CLAIRE) == (
        "MADAME CLAIRE MARTIN-LEFEVRE",
        "12 RUE DES LILAS",
        "87000 LIMOGES",
    )


def test_every_part_in_the_standards_order() -> None:
    address = caf(
        "8 bis, rue de l'Église",
        ("69003", "Lyon"),
        complement="Appartement 12, étage 3",
        building="Résidence Les Pins - Bâtiment B",
        locality="Lieu-dit Les Grands Champs",
    )
    assert layout(address, PAUL) == (
        "MONSIEUR PAUL N'DIAYE",
        "APPARTEMENT 12 ETAGE 3",
        "RESIDENCE LES PINS - BATIMENT B",
        "8 BIS RUE DE L EGLISE",
        "LIEU DIT LES GRANDS CHAMPS",
        "69003 LYON",
    )


def test_a_short_street_is_never_abbreviated() -> None:
    address = caf("17 avenue des Fleurs", ("75011", "Paris"))
    assert layout(address, CLAIRE)[1] == "17 AVENUE DES FLEURS"


def test_a_long_street_is_abbreviated_only_as_far_as_it_needs() -> None:
    # The name is 40 characters: AVENUE then MARECHAL are abbreviated, and no further.
    address = caf("12 avenue du Maréchal de Lattre de Tassigny", ("94000", "Créteil"))
    street = layout(address, CLAIRE)[1]
    assert street == "12 AV DU MAL DE LATTRE DE TASSIGNY"
    assert len(street) <= WIDTH


def test_a_street_that_cannot_fit_is_refused() -> None:
    address = caf(
        "125 boulevard du Maréchal Jean de Lattre de Tassigny Prolongée", ("94000", "Créteil")
    )
    with pytest.raises(AddressError) as refused:
        layout(address, CLAIRE)
    assert refused.value.reason == "too_long"


def test_cedex_stays_on_the_town_line() -> None:
    address = caf("BP 40021", ("33074", "Bordeaux Cedex"))
    assert layout(address, CLAIRE)[-1] == "33074 BORDEAUX CEDEX"


def test_overseas_is_in_france_no_country_line() -> None:
    address = caf("3 chemin de la Ravine", ("97411", "Saint-Paul"), locality="Bois de Nèfles")
    assert layout(address, CLAIRE)[-2:] == ("BOIS DE NEFLES", "97411 SAINT PAUL")


def test_a_lieu_dit_without_a_street_is_enough() -> None:
    address = caf(None, ("23200", "Aubusson"), locality="Le Mas Chabrol")
    assert layout(address, CLAIRE) == (
        "MADAME CLAIRE MARTIN-LEFEVRE",
        "LE MAS CHABROL",
        "23200 AUBUSSON",
    )


def test_abroad_the_country_comes_last_in_capitals() -> None:
    address = caf("Friedrichstraße 43", ("10117", "Berlin"), country="Allemagne")
    assert layout(address, CLAIRE)[-3:] == ("FRIEDRICHSTRASSE 43", "10117 BERLIN", "ALLEMAGNE")


def test_abroad_one_more_line_is_allowed_for_the_country() -> None:
    full = caf(
        "Via Roma 1",
        ("00100", "Roma"),
        complement="Interno 4",
        building="Scala B",
        locality="Frazione Nord",
        country="Italie",
    )
    assert len(layout(full, CLAIRE)) == 7
    assert len(layout(caf("Via Roma 1", ("00100", "Roma"), country="Italie"), CLAIRE)) == 4


def test_the_tax_address_lines_are_complements_then_the_street() -> None:
    tax = PostalAddress(
        ("Chez M. Durand", "4 place Bellecour", "69002 LYON"), "69002", "Lyon", None, None
    )
    assert layout(tax, CLAIRE) == (
        "MADAME CLAIRE MARTIN-LEFEVRE",
        "CHEZ M DURAND",
        "4 PLACE BELLECOUR",
        "69002 LYON",
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (caf("1 rue X", (None, "Lyon")), "no_postcode"),
        (caf("1 rue X", ("6900", "Lyon")), "no_postcode"),
        (caf("1 rue X", ("69003", None)), "no_city"),
        (caf(None, ("69003", "Lyon"), complement="Appartement 2"), "no_street"),
        (PostalAddress((), "69003", "Lyon", None, "FRANCE"), "no_street"),
    ],
)
def test_what_cannot_be_laid_out_is_refused(address: PostalAddress, reason: str) -> None:
    with pytest.raises(AddressError) as refused:
        layout(address, CLAIRE)
    assert refused.value.reason == reason
    assert "Lyon" not in str(refused.value)  # the reason, never the address


def test_no_recipient_is_refused() -> None:
    with pytest.raises(AddressError) as refused:
        layout(caf("1 rue X", ("69003", "Lyon")), "  ")
    assert refused.value.reason == "no_recipient"


def test_a_long_recipient_abbreviates_the_civility_first() -> None:
    long = Recipient("F", "Marie-Christine", "Delacroix-Martin")  # 39 characters in full
    assert layout(caf("1 rue X", ("69003", "Lyon")), long)[0] == (
        "MME MARIE-CHRISTINE DELACROIX-MARTIN"
    )


def test_plain_spells_out_ligatures_and_drops_accents() -> None:
    assert plain("  Cœur  d'Île ") == "COEUR D'ILE"


def test_abbreviate_stops_as_soon_as_it_fits() -> None:
    assert abbreviate("BOULEVARD SAINT GERMAIN", 40) == "BOULEVARD SAINT GERMAIN"
    assert abbreviate("BOULEVARD SAINT GERMAIN", 20) == "BD SAINT GERMAIN"
    assert abbreviate("BOULEVARD SAINT GERMAIN", 12) == "BD ST GERMAIN"
    # Whole words only: SAINTES is not SAINT followed by ES.
    assert abbreviate("RUE DE SAINTES", 5) == "RUE DE SAINTES"
