"""The social security number a person types: shape, sex digit, month, key, Corsica."""

from __future__ import annotations

import pytest

from prefill import InvalidValue, load_forms
from prefill.nir import key, normalized
from prefill.values import coerce

# Made-up numbers (order 001–003, fictitious places): their keys are computed, never copied.
BODIES = (
    "1850575106001",  # a man born in May 1985, Paris
    "2900569123002",  # a woman, May 1990, Lyon
    "2900599350003",  # born abroad (99) — country code 350
    "3851299217001",  # 3: a person born abroad being registered
    "4010199217001",  # 4: likewise
    "7850599350001",  # 7: a provisional number
    "8850599350001",  # 8: likewise
    "1852575106001",  # month 25: a fictitious month (the document gave none)
    "1854275106001",  # month 42: the last of them
    "1855075106001",  # month 50
    "1859975106001",  # month 99
)


def full(body: str) -> str:
    return f"{body}{key(body):02d}"


@pytest.mark.parametrize("body", BODIES)
def test_well_formed_numbers_are_accepted(body: str) -> None:
    assert normalized("nir", full(body)) == full(body)


def test_the_key_is_97_minus_the_number_mod_97() -> None:
    assert key("1850575106001") == 97 - 1850575106001 % 97
    assert 1000000000047 % 97 == 0
    assert key("1000000000047") == 97  # a multiple of 97 has key 97, never 00


def test_spaces_as_printed_on_the_card_are_removed() -> None:
    number = full("1850575106001")
    spaced = f"{number[0]} {number[1:3]} {number[3:5]} {number[5:7]} {number[7:10]} "
    spaced += f"{number[10:13]} {number[13:]}"
    assert normalized("nir", f"  {spaced} ") == number
    assert normalized("nir", number[:7] + "\u00a0" + number[7:]) == number


def test_corsica_counts_2a_as_19_and_2b_as_18() -> None:
    a = "185052A004001"
    b = "185052B033001"
    assert key(a) == key("1850519004001")
    assert key(b) == key("1850518033001")
    assert normalized("nir", full(a)) == full(a)
    assert normalized("nir", full(b).lower()) == full(b)  # typed in lower case
    # A key computed with 2A read as 20 is not the number's.
    assert key(a) != key("1850520004001")
    with pytest.raises(InvalidValue, match="key"):
        normalized("nir", a + f"{key('1850520004001'):02d}")


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("18505751060", "15 characters"),
        (full("1850575106001") + "1", "15 characters"),
        ("1850575106001AB", "only digits"),
        ("185052C00400112", "only digits"),
        ("2A0575106001" + "123", "only digits"),
        (full("5850575106001"), "first digit"),
        (full("0850575106001"), "first digit"),
        (full("9850575106001"), "first digit"),
        (full("1850075106001"), "month"),
        (full("1851375106001"), "month"),
        (full("1851975106001"), "month"),
        (full("1854375106001"), "month"),
        (full("1854975106001"), "month"),
    ],
)
def test_malformed_numbers_are_refused_naming_the_field(typed: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=words) as caught:
        normalized("numero_securite_sociale", typed)
    assert caught.value.field == "numero_securite_sociale"
    assert caught.value.code == "BAD_USER_INPUT"


def test_a_mistyped_digit_breaks_the_key() -> None:
    number = full("2900569123002")
    swapped = number[:8] + ("4" if number[8] != "4" else "5") + number[9:]
    with pytest.raises(InvalidValue, match="key"):
        normalized("nir", swapped)
    wrong = number[:13] + f"{key(number[:13]) % 97 + 1:02d}"
    with pytest.raises(InvalidValue, match="key"):
        normalized("nir", wrong)


@pytest.mark.parametrize("form_id", ["rsa", "css", "aspa"])
def test_the_forms_number_field_checks_what_the_person_types(form_id: str) -> None:
    field = load_forms()[form_id].field("numero_securite_sociale")
    assert field is not None
    good = full("2900599350003")
    assert coerce(field, f"{good[:5]} {good[5:]}", from_person=True) == good
    with pytest.raises(InvalidValue, match="numero_securite_sociale"):
        coerce(field, good[:-1] + ("0" if good[-1] != "0" else "1"), from_person=True)
    with pytest.raises(InvalidValue, match="expected text"):
        coerce(field, 185057510600168, from_person=True)
