"""The GSM 7-bit alphabet, segment counts and transliteration, from 3GPP TS 23.038's tables."""

from __future__ import annotations

import pytest

from proactive.notifications import gsm

# TS 23.038 §6.2.1, a few codes read from the table (column × 16 + row).
BASIC_CODES = {
    "@": 0x00,
    "£": 0x01,
    "è": 0x04,
    "é": 0x05,
    "ù": 0x06,
    "Ç": 0x09,
    "\n": 0x0A,
    "Δ": 0x10,
    "É": 0x1F,
    " ": 0x20,
    "¤": 0x24,
    "0": 0x30,
    "¡": 0x40,
    "A": 0x41,
    "Ä": 0x5B,
    "§": 0x5F,
    "¿": 0x60,
    "a": 0x61,
    "ü": 0x7E,
    "à": 0x7F,
}


def test_the_default_alphabet_has_127_characters_at_their_codes() -> None:
    assert len(gsm.BASIC) == 127  # 128 codes, 0x1B being the escape
    assert set(gsm.BASIC.values()) == set(range(128)) - {gsm.ESCAPE}
    for character, code in BASIC_CODES.items():
        assert gsm.BASIC[character] == code


def test_the_extension_table_is_the_standards() -> None:
    assert gsm.EXTENSION == {
        "\f": 0x0A,
        "^": 0x14,
        "{": 0x28,
        "}": 0x29,
        "\\": 0x2F,
        "[": 0x3C,
        "~": 0x3D,
        "]": 0x3E,
        "|": 0x40,
        "€": 0x65,
    }
    assert not set(gsm.EXTENSION) & set(gsm.BASIC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "GSM-7"),
        ("Votre demande est déjà remplie : à bientôt", "UCS-2"),  # "ô"
        ("Votre demande est déjà remplie : à bientot", "GSM-7"),
        ("10 € [ok] {x} ~ | ^ \\", "GSM-7"),
        ("l’été", "UCS-2"),  # the typographic apostrophe
        ("ç", "UCS-2"),  # the alphabet has the capital only
        ("Ç", "GSM-7"),
        ("`", "UCS-2"),
        ("😀", "UCS-2"),
    ],
)
def test_encoding(text: str, expected: str) -> None:
    assert gsm.encoding(text) == expected


def test_extension_characters_count_two_septets() -> None:
    assert gsm.septets("abc") == 3
    assert gsm.septets("€") == 2
    assert gsm.septets("[é]") == 5
    with pytest.raises(ValueError):
        gsm.septets("ê")


@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segments_are_160_then_153(length: int, expected: int) -> None:
    assert gsm.segments("a" * length) == expected


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 80 euro signs are 160 septets: one SMS.
    assert gsm.segments("€" * 80) == 1
    # 152 septets then a euro sign: it would straddle the first part's end (153), so it
    # starts the second part; the first holds 152, and 306 septets need three parts.
    text = "a" * 152 + "€" + "a" * 152
    assert gsm.septets(text) == 306
    assert gsm.segments(text) == 3
    # Without the straddle, the same length is two parts.
    assert gsm.segments("a" * 151 + "€" + "a" * 153) == 2


@pytest.mark.parametrize(
    ("length", "expected"),
    [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segments_are_70_then_67(length: int, expected: int) -> None:
    assert gsm.segments("ê" * length) == expected


def test_a_character_outside_the_bmp_counts_two_units_and_is_never_split() -> None:
    assert gsm.units("😀") == 2
    assert gsm.segments("😀" * 35) == 1  # 70 units
    assert gsm.segments("😀" * 36) == 2
    # 66 units then a surrogate pair: it moves whole to the second part.
    text = "ê" * 66 + "😀" + "ê" * 66
    assert gsm.units(text) == 134
    assert gsm.segments(text) == 3
    assert gsm.segments("ê" * 65 + "😀" + "ê" * 67) == 2


def test_units_are_septets_in_gsm7_and_code_units_in_ucs2() -> None:
    assert gsm.units("a€") == 3
    assert gsm.units("ê€") == 2


@pytest.mark.parametrize(
    ("french", "sent"),
    [
        ("Vous avez peut-être droit", "Vous avez peut-etre droit"),
        ("août", "aout"),
        ("reçu, Noël, maïs, gîte, côte, âge", "recu, Noel, mais, gite, cote, age"),
        ("œuvre, Œuvre", "oeuvre, OEuvre"),
        ("À ÂGE ÊTRE ÈRE ÎLE ÔTER ÛN ÙN", "A AGE ETRE ERE ILE OTER UN UN"),
        ("l’été « ici » “là” – fin — …", 'l\'été " ici " "là" - fin - ...'),
        ("1\u202f000\u00a0€ : oui\u202f!", "1 000 € : oui !"),
        # Kept: the alphabet has them.
        ("é è ù ì ò à É Ç ä ö ü ñ Ä Ö Ü Ñ", "é è ù ì ò à É Ç ä ö ü ñ Ä Ö Ü Ñ"),
        # Not named by the table: accents dropped when the rest is in the alphabet.
        ("Łódź Ștefan Gödel", "Łodz Stefan Gödel"),
    ],
)
def test_transliteration(french: str, sent: str) -> None:
    assert gsm.transliterate(french) == sent


def test_transliterated_french_is_gsm7_and_the_rest_left_for_encoding_to_tell() -> None:
    french = "Ça être là, où l’on a reçu « 1\u202f234 € » — déjà… Œuvre, naïve, Noël, ÿ"
    assert gsm.encoding(gsm.transliterate(french)) == "GSM-7"
    assert gsm.encoding(gsm.transliterate("Łódź 😀")) == "UCS-2"
    assert gsm.transliterate("😀") == "😀"
