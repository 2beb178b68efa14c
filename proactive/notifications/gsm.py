"""What a text message costs: its encoding, its length in septets, its number of segments.

The alphabet is the GSM 7-bit default alphabet of 3GPP TS 23.038 (formerly GSM 03.38),
§6.2.1 "GSM 7 bit Default Alphabet" and §6.2.1.1 "GSM 7 bit default alphabet extension
table". A message whose every character is in it goes out in GSM-7: 7 bits a character,
160 characters in one SMS. One character outside it, and the whole message goes out in UCS-2
(16 bits a character): 70 characters in one SMS. The extension table's characters (``€``,
``[``, ``|``…) are sent as the escape code 0x1B followed by their code: two septets each.

A longer message is split into concatenated parts, each carrying a user data header (6
octets, 3GPP TS 23.040 §9.2.3.24.1) that leaves 153 septets of text in GSM-7 or 67 UTF-16
code units in UCS-2. A part never ends between an escape and its character, nor between the
two halves of a surrogate pair (a character outside the Basic Multilingual Plane): the
character moves whole to the next part, so a part may hold one unit less.

French text stays in GSM-7 through :func:`transliterate`, which rewrites the few characters
of French the alphabet lacks (``ê``, ``â``, ``î``, ``ô``, ``û``, ``ë``, ``ï``, ``ç``, ``œ``,
typographic quotes and dashes…) into the closest ones it has, and keeps every character it
has (``é``, ``è``, ``à``, ``ù``, ``É``…).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

ESCAPE = 0x1B
# TS 23.038 §6.2.1: the character at each code 0x00-0x7F. 0x1B is the escape to the
# extension table, not a character (written here as a space it can never match: it is
# dropped from BASIC below). 0x09 is the capital C with cedilla, as the standard has it.
_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
BASIC: dict[str, int] = {c: code for code, c in enumerate(_TABLE) if code != ESCAPE}
# TS 23.038 §6.2.1.1: the characters sent as 0x1B and this code. 0x0D (a second escape
# for national tables) and 0x1B (reserved) are no characters.
EXTENSION: dict[str, int] = {
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

GSM7_SINGLE = 160  # septets in one SMS
GSM7_PART = 153  # septets in each part of a concatenated SMS (160 - 7 for the header)
UCS2_SINGLE = 70  # UTF-16 code units in one SMS
UCS2_PART = 67  # in each part of a concatenated SMS (70 - 3 for the header)

# French characters GSM-7 lacks, and what a message writes instead. Lower-case "ç" becomes
# "c", not the alphabet's capital "Ç" ("reÇu" reads worse than "recu"). Typographic
# punctuation becomes its ASCII form; the non-breaking spaces French puts before ":", "?",
# "!", "€" and inside numbers become plain spaces.
TRANSLITERATION: dict[str, str] = {
    "â": "a",
    "ê": "e",
    "î": "i",
    "ô": "o",
    "û": "u",
    "ë": "e",
    "ï": "i",
    "ÿ": "y",
    "ç": "c",
    "á": "a",
    "í": "i",
    "ó": "o",
    "ú": "u",
    "œ": "oe",
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Û": "U",
    "Ù": "U",
    "Ÿ": "Y",
    "Œ": "OE",
    "\u2019": "'",  # right single quotation mark, the French apostrophe
    "\u2018": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "«": '"',
    "»": '"',
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",  # ellipsis
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\t": " ",
}
_TRANSLITERATION = str.maketrans(TRANSLITERATION)


def _gsm7(character: str) -> bool:
    return character in BASIC or character in EXTENSION


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the default alphabet or its extension table,
    else ``"UCS-2"``."""
    return "GSM-7" if all(_gsm7(c) for c in text) else "UCS-2"


def septets(text: str) -> int:
    """The length of ``text`` in GSM-7: one septet a character, two for the extension
    table's. :class:`ValueError` if ``text`` is not GSM-7."""
    return sum(_septets(c) for c in text)


def _septets(character: str) -> int:
    if character in BASIC:
        return 1
    if character in EXTENSION:
        return 2
    raise ValueError("not in the GSM 7-bit default alphabet")


def _utf16_units(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


def units(text: str) -> int:
    """The length of ``text`` in its encoding: septets in GSM-7, UTF-16 code units in UCS-2."""
    if encoding(text) == "GSM-7":
        return septets(text)
    return sum(_utf16_units(c) for c in text)


def segments(text: str) -> int:
    """How many SMS ``text`` is sent as: 1 up to 160 septets (GSM-7) or 70 code units
    (UCS-2), else parts of 153 or 67, a character never split between two parts. An empty
    text is still one SMS."""
    gsm = encoding(text) == "GSM-7"
    size = _septets if gsm else _utf16_units
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    if sum(size(c) for c in text) <= single:
        return 1
    count, used = 1, 0
    for character in text:
        width = size(character)
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return count


def transliterate(text: str) -> str:
    """``text`` with the characters GSM-7 lacks replaced as :data:`TRANSLITERATION` says.

    A letter the table does not name and GSM-7 lacks (``ő``, ``ș``…) loses its accents when
    what remains is in the alphabet; anything else is left as it is, and :func:`encoding`
    tells that the text is still UCS-2."""
    out = []
    for character in text.translate(_TRANSLITERATION):
        if not _gsm7(character):
            bare = "".join(
                c for c in unicodedata.normalize("NFD", character) if not unicodedata.combining(c)
            )
            if bare and all(_gsm7(c) for c in bare):
                character = bare
        out.append(character)
    return "".join(out)
