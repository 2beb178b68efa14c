"""A month as a form holds it (``YYYY-MM``) and as a person reads and writes it (« juin 2026 »).

A form sent to démarches-simplifiées shows a month in words in a text champ; what comes back is
whatever the person left or typed there: « juin 2026 », « Juin 2026 », « 06/2026 », « 6/2026 »
or ``2026-06`` all read as ``2026-06``, anything else is refused rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata

NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_ISO = re.compile(r"(\d{4})-(\d{2})")
_SLASH = re.compile(r"(\d{1,2})\s*/\s*(\d{4})")
_WORDS = re.compile(r"([a-z]+)\.?\s+(\d{4})")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_BY_NAME = {_plain(name): i for i, name in enumerate(NAMES, start=1)}
# The abbreviations a calendar prints (« janv. 2026 », « sept. 2026 »).
_BY_NAME.update(
    {
        "janv": 1,
        "fev": 2,
        "fevr": 2,
        "avr": 4,
        "juil": 7,
        "juill": 7,
        "sept": 9,
        "oct": 10,
        "nov": 11,
        "dec": 12,
    }
)


def parse(text: str) -> str | None:
    """``YYYY-MM`` for a month written in one of the ways above; None for anything else."""
    plain = " ".join(_plain(text).split())
    month: int | None
    if found := _ISO.fullmatch(plain):
        year, month = int(found[1]), int(found[2])
    elif found := _SLASH.fullmatch(plain):
        month, year = int(found[1]), int(found[2])
    elif found := _WORDS.fullmatch(plain):
        month, year = _BY_NAME.get(found[1]), int(found[2])
    else:
        return None
    if month is None or not 1 <= month <= 12 or not 1900 <= year <= 2999:
        return None
    return f"{year:04d}-{month:02d}"


def words(month: str) -> str:
    """« juin 2026 » for ``2026-06`` (ValueError for anything else)."""
    found = _ISO.fullmatch(month)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return f"{NAMES[int(found[2]) - 1]} {found[1]}"
