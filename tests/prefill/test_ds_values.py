# ruff: noqa: E501  (tables of cases, one per line)
"""Converting one value to what a DS champ takes, and back."""

from __future__ import annotations

from typing import Any

import pytest

from prefill.champs import ChampDescriptor, champ_id
from prefill.ds_values import Unconvertible, from_ds, to_ds
from prefill.model import FieldDef
from prefill.procedure import ChampMapping

MARITAL = ("celibataire", "marie")


def champ(kind: str, options: tuple[str, ...] = ()) -> ChampDescriptor:
    return ChampDescriptor(champ_id(1), "x", kind, False, options)


def field(kind: Any, choices: tuple[str, ...] = ()) -> FieldDef:
    return FieldDef("f", "F", kind, choices=choices)


def plain(options: dict[str, str] | None = None) -> ChampMapping:
    return ChampMapping("f", champ_id(1), options or {})


@pytest.mark.parametrize(
    ("ftype", "kind", "value", "expected"),
    [
        ("money", "integer_number", "10012.0", 10012),
        ("money", "integer_number", 10012.0, 10012),
        ("number", "integer_number", "1 234", 1234),
        ("money", "decimal_number", 500.5, 500.5),
        ("money", "decimal_number", "1 234,56", 1234.56),
        ("money", "decimal_number", 500.0, 500),
        ("date", "date", "1988-03-14", "1988-03-14"),
        ("text", "datetime", "2026-01-05T10:30:00", "2026-01-05T10:30:00"),
        ("boolean", "yes_no", True, "true"),
        ("boolean", "checkbox", False, "false"),
        ("text", "yes_no", "oui", "true"),
        ("text", "yes_no", "Non", "false"),
        ("text", "pays", "99100", "FR"),
        ("text", "pays", "99350", "MA"),
        ("text", "pays", "de", "DE"),
        ("text", "departements", "75012", "75"),
        ("text", "departements", "20000", "2A"),
        ("text", "departements", "20200", "2B"),
        ("text", "departements", "97411", "974"),
        ("text", "departements", {"postcode": "20200", "insee": "2A004"}, "2A"),
        ("text", "communes", {"postcode": "75012", "insee": "75112"}, ["75012", "75112"]),
        ("text", "communes", {"postcode": "20000", "insee": "2A004"}, ["20000", "2A004"]),
        ("text", "communes", {"insee": "69123"}, ["69001", "69123"]),
        ("text", "communes", {"insee": "75112"}, ["75012", "75056"]),
        ("text", "communes", {"insee": "50173"}, ["50100", "50129"]),
        ("text", "communes", {"insee": "2a004"}, ["20000", "2A004"]),
        ("choice", "civilite", "F", "Mme"),
        ("choice", "civilite", "M", "M."),
        ("choice", "civilite", "Mme", "Mme"),
        ("text", "address", {"ban_label": "8 Boulevard du Port 80000 Amiens"}, "8 Boulevard du Port 80000 Amiens"),
        ("text", "text", "DURAND", "DURAND"),
        ("text", "email", "a@example.org", "a@example.org"),
        ("text", "siret", "217 500 016 00019", "21750001600019"),
    ],
)  # fmt: skip
def test_accepted_and_converted(ftype: str, kind: str, value: Any, expected: Any) -> None:
    assert to_ds(field(ftype), champ(kind), plain(), value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("integer_number", 10012.5, "not a whole number"),
        ("integer_number", True, "not a number"),
        ("integer_number", "douze", "not a number"),
        ("decimal_number", 1.23456, "more than 3 decimals"),
        ("date", "14/03/1988", "not a YYYY-MM-DD date"),
        ("date", "2025-02-30", "not a YYYY-MM-DD date"),
        ("datetime", "2026-01-05", "no time of day"),
        ("yes_no", "peut-être", "not a yes/no value"),
        ("pays", "99115", "has no ISO 3166 code"),
        ("pays", "ZZ", "not an INSEE or ISO 3166 country code"),
        ("departements", "98000", "not a French postcode"),
        ("communes", {"postcode": "75012"}, "no INSEE commune code"),
        ("communes", "75012", "no postcode"),
        ("communes", {"postcode": "69003", "insee": "75112"}, "different départements"),
        ("communes", {"postcode": None, "insee": "75112"}, "no postcode"),
        ("communes", {"insee": "99999"}, "no commune of today's"),
        ("communes", {"insee": "Lyon"}, "no INSEE commune code"),
        ("civilite", "X", "not a civilité"),
        ("address", "12 RUE DES LILAS\nAPPT 4", "no Base Adresse Nationale label in the data"),
        ("text", ["a"], "not a text"),
        ("carte", "x", "is not prefilled"),
    ],
)
def test_refused_with_a_reason(kind: str, value: Any, reason: str) -> None:
    with pytest.raises(Unconvertible) as caught:
        to_ds(field("text"), champ(kind), plain(), value)
    assert reason in caught.value.reason


def test_an_internal_choice_code_becomes_the_procedures_label() -> None:
    c = champ("drop_down_list", ("Célibataire", "Marié(e)"))
    m = plain({"celibataire": "Célibataire", "marie": "Marié(e)"})
    f = field("choice", MARITAL)
    assert to_ds(f, c, m, "marie") == "Marié(e)"
    assert from_ds(f, c, m, {"value": "Marié(e)"}) == "marie"
    with pytest.raises(Unconvertible, match="not one of the champ's options"):
        to_ds(f, c, plain(), "marie")
    multiple = champ("multiple_drop_down_list", ("Célibataire", "Marié(e)"))
    assert to_ds(f, multiple, m, "marie") == ["Marié(e)"]
    assert from_ds(f, multiple, m, {"values": ["Marié(e)"]}) == "marie"


@pytest.mark.parametrize(
    ("ftype", "kind", "node", "expected"),
    [
        ("money", "integer_number", {"integerNumber": "10012"}, 10012.0),
        ("number", "integer_number", {"value": 7}, 7),
        ("money", "decimal_number", {"decimalNumber": 500.5}, 500.5),
        ("date", "date", {"date": "1988-03-14"}, "1988-03-14"),
        ("boolean", "yes_no", {"selected": False}, False),
        ("boolean", "checkbox", {"checked": True}, True),
        ("text", "pays", {"pays": {"code": "FR", "name": "France"}}, "99100"),
        ("text", "communes", {"commune": {"code": "75112", "postalCode": "75012", "name": "Paris 12e"}},
         {"postcode": "75012", "insee": "75112", "name": "Paris 12e"}),
        ("text", "text", {"value": "DURAND"}, "DURAND"),
        ("text", "address", {"address": {"label": "8 Bd du Port 80000 Amiens"}}, "8 Bd du Port 80000 Amiens"),
        ("date", "date", {"date": None}, None),
    ],
)  # fmt: skip
def test_read_back_from_a_dossier(ftype: str, kind: str, node: Any, expected: Any) -> None:
    assert from_ds(field(ftype), champ(kind), plain(), node) == expected


def test_civilite_reads_back_to_the_forms_choice() -> None:
    c = champ("civilite")
    assert from_ds(field("choice", ("M.", "Mme")), c, plain(), {"civilite": "Mme"}) == "Mme"
    assert from_ds(field("choice", ("M", "F")), c, plain(), {"civilite": "Mme"}) == "F"
    assert from_ds(field("choice", ("M", "F")), c, plain(), {"civilite": "M"}) == "M"


def test_a_departement_does_not_read_back() -> None:
    with pytest.raises(Unconvertible):
        from_ds(field("text"), champ("departements"), plain(), {"departement": {"code": "75"}})


def test_a_commune_sent_from_its_insee_code_alone_reads_back_as_precisely_as_its_postcode_says() -> (
    None
):
    alone = ChampMapping("f", champ_id(1), {}, from_fields={"insee": "f"})
    both = ChampMapping("f", champ_id(1), {}, from_fields={"insee": "f", "postcode": "cp"})
    paris_12 = {"commune": {"code": "75056", "postalCode": "75012", "name": "Paris"}}
    cherbourg = {
        "commune": {"code": "50129", "postalCode": "50110", "name": "Cherbourg-en-Cotentin"}
    }
    assert from_ds(field("text"), champ("communes"), alone, paris_12)["insee"] == "75112"
    assert from_ds(field("text"), champ("communes"), alone, cherbourg)["insee"] == "50129"
    # Fed by a postcode too, the code comes back as DS holds it.
    assert from_ds(field("text"), champ("communes"), both, paris_12)["insee"] == "75056"
