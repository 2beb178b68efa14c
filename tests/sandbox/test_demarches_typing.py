"""DS's prefill typing, kind by kind: what each champ kind keeps, what it drops."""

from __future__ import annotations

import pytest

from sandbox.demarches.ids import champ_id, stable_id_of
from sandbox.demarches.procedures import ChampDef
from sandbox.demarches.typing import identity, prefill_value
from sandbox.demarches.values import AddressValue, CommuneValue, Place, Row


def champ(
    kind: str, options: tuple[str, ...] = (), children: tuple[ChampDef, ...] = ()
) -> ChampDef:
    return ChampDef(champ_id(999001), 999001, kind, "Libellé", options=options, children=children)


@pytest.mark.parametrize(
    ("kind", "raw", "kept"),
    [
        ("text", "Bonjour", "Bonjour"),
        ("textarea", "Deux\nlignes", "Deux\nlignes"),
        ("text", 42, "42"),
        ("email", "pas-une-adresse", "pas-une-adresse"),  # DS does not check them at prefill
        ("phone", "06 12 34 56 78", "06 12 34 56 78"),
        ("integer_number", "42", 42),
        ("integer_number", 10012, 10012),
        ("integer_number", "10 012", 10012),
        ("integer_number", "-3", -3),
        ("decimal_number", 500.0, "500.0"),
        ("decimal_number", "12,5", "12.5"),
        ("decimal_number", "1 234.56", "1234.56"),
        ("decimal_number", 7, "7"),
        ("date", "1988-03-14", "1988-03-14"),
        ("date", "1988/03/14", "1988-03-14"),
        ("datetime", "2023-02-01T10:30", "2023-02-01T10:30:00+01:00"),
        ("datetime", "2023-07-01T10:30:00Z", "2023-07-01T12:30:00+02:00"),
        ("datetime", "01/02/2023 10:30", "2023-02-01T10:30:00+01:00"),
        ("yes_no", "true", True),
        ("yes_no", "false", False),
        ("checkbox", "true", True),
        ("civilite", "M.", "M."),
        ("civilite", "Mme", "Mme"),
        ("pays", "FR", Place("FR", "France")),
        ("pays", "Maroc", Place("MA", "Maroc")),
        ("departements", "93", Place("93", "Seine-Saint-Denis")),
        ("departements", "2A", Place("2A", "Corse-du-Sud")),
        ("departements", "974", Place("974", "La Réunion")),
        ("communes", ["75011", "75056"], CommuneValue("75011", "75056", "Paris")),
        ("communes", ["75011"], CommuneValue("75011")),
        (
            "address",
            "20 Avenue de Ségur 75007 Paris",
            AddressValue("20 Avenue de Ségur 75007 Paris", "75007", "Paris", "75056"),
        ),
        (
            "address",
            "1 place du Maréchal Leclerc 86000 Poitiers",
            AddressValue("1 place du Maréchal Leclerc 86000 Poitiers"),
        ),
        (
            "address",
            "1 rue de la Gare 93000 Bobigny",
            AddressValue("1 rue de la Gare 93000 Bobigny", "93000", "Bobigny", "93008"),
        ),
    ],
)
def test_a_value_ds_accepts_is_kept_typed(kind: str, raw: object, kept: object) -> None:
    assert prefill_value(champ(kind), raw) == kept


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("text", ""),
        ("text", "   "),
        ("integer_number", "10012.0"),
        ("integer_number", 10012.0),
        ("integer_number", "douze"),
        ("decimal_number", "1234.5678"),  # more than three decimals
        ("decimal_number", "12.5 €"),
        ("date", "14/03/1988"),
        ("date", "1988-02-30"),
        ("date", "1988-03-14T00:00"),
        ("datetime", "demain"),
        ("yes_no", "oui"),
        ("yes_no", True),  # JSON true reaches DS as "t"
        ("checkbox", "1"),
        ("civilite", "M"),
        ("civilite", "F"),
        ("pays", "99100"),
        ("pays", "fr"),
        ("pays", "XX"),
        ("departements", "99"),
        ("departements", "1"),
        ("communes", "75056"),  # a plain string
        ("communes", ["99999", "75056"]),  # unknown postal code
        ("communes", ["75011", "13055"]),  # a commune of another postal code
        ("communes", []),
        ("address", ""),
        ("address", ["1 rue de la Gare"]),
        ("repetition", {"champ_x": "1"}),  # not a list
    ],
)
def test_a_value_ds_refuses_is_dropped(kind: str, raw: object) -> None:
    assert prefill_value(champ(kind), raw) is None


def test_drop_down_lists_keep_only_their_options() -> None:
    situation = champ("drop_down_list", ("Célibataire", "Marié(e)", "Pacsé(e)"))
    assert prefill_value(situation, "Marié(e)") == "Marié(e)"
    assert prefill_value(situation, "marie") is None
    assert prefill_value(situation, "Marié") is None


def test_multiple_drop_down_lists_keep_a_list_of_their_options() -> None:
    benefits = champ("multiple_drop_down_list", ("A", "B", "C"))
    assert prefill_value(benefits, ["A", "C"]) == ("A", "C")
    assert prefill_value(benefits, "B") == ("B",)
    assert prefill_value(benefits, ["A", "Z"]) is None  # one option unknown: all dropped


def test_repetition_rows_are_typed_child_by_child() -> None:
    name = ChampDef(champ_id(999002), 999002, "text", "Prénom")
    born = ChampDef(champ_id(999003), 999003, "date", "Date de naissance")
    children = champ("repetition", children=(name, born))
    rows = prefill_value(
        children,
        [
            {name.key: "LÉA", born.key: "2015-09-01"},
            {name.key: "TOM", born.key: "01/09/2017", "champ_inconnu": "x"},
            "not a row",
        ],
    )
    assert rows == [
        Row(1, {999002: "LÉA", 999003: "2015-09-01"}),
        Row(2, {999002: "TOM"}),  # the date DS would not take is dropped, the row stays
    ]


def test_header_sections_are_not_prefillable() -> None:
    assert prefill_value(champ("header_section"), "Titre") is None


def test_identity_keeps_a_genre_only_as_m_or_mme() -> None:
    assert identity(
        {"identite_nom": "DURAND", "identite_prenom": "CLAIRE", "identite_genre": "Mme"}
    ) == {
        "nom": "DURAND",
        "prenom": "CLAIRE",
        "genre": "Mme",
    }
    assert identity({"identite_nom": "DURAND", "identite_genre": "F"}) == {"nom": "DURAND"}


def test_champ_ids_are_ds_typed_ids_without_padding() -> None:
    assert champ_id(101002) == "Q2hhbXAtMTAxMDAy"
    assert stable_id_of("champ_Q2hhbXAtMTAxMDAy") == 101002
    assert stable_id_of("champ_Q2hhbXAtMTIz") == 123  # "Champ-123", padding left off
    assert stable_id_of("champ_pas-du-base64!") is None
    assert stable_id_of("identite_nom") is None
