"""How close an identity echoed by the CNAF is to the one asked: the tolerance of the agency.

API Particulier's DSS hub finds a CAF file despite errors in the given names, whether they
keep the pronunciation (``ALEXI`` for ``ALEXIS``) or not (``ALEIXS``), as long as the birth
data is complete ("cas limite" staging cases of the quotient familial, which answer 200).
Refusing such answers would hide the household of the very person asked. The tolerance is
kept to what it is for: the birth name and the birth date must be those asked; only a given
name may differ, by one edit (a letter added, dropped, changed, or two letters swapped) or
by spelling alone (the same phonetic key), and then the sex must agree too. An answer about
another person (another birth date, another name: both kinds are in the staging set) is
still refused.
"""

from __future__ import annotations

from datetime import date

from connectors.identity import PivotIdentity, normalise_name

# Spellings of one sound, replaced longest first; H is silent after these are read.
_SOUNDS = (
    ("EAU", "O"),
    ("EAN", "AN"),
    ("EN", "AN"),
    ("PH", "F"),
    ("AU", "O"),
    ("AI", "E"),
    ("EI", "E"),
    ("QU", "K"),
    ("CK", "K"),
    ("Y", "I"),
    ("H", ""),
)
# Letters French rarely pronounces at the end of a given name.
_MUTE_ENDINGS = "ESTXD"


def phonetic_key(name: str) -> str:
    """A rough French pronunciation of a normalised name: spellings folded, doubled letters
    and mute endings dropped (``JEAN-PHILIPPE`` and ``JEAN PHILIPE`` share one key)."""
    text = "".join(c for c in normalise_name(name) if c.isalpha())
    for spelling, sound in _SOUNDS:
        text = text.replace(spelling, sound)
    folded: list[str] = []
    for c in text:
        if not folded or folded[-1] != c:
            folded.append(c)
    key = "".join(folded)
    while len(key) > 1 and key[-1] in _MUTE_ENDINGS:
        key = key[:-1]
    return key


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two adjacent letters, each counting one."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def close_given_name(asked: str, answered: str) -> bool:
    a, b = normalise_name(asked), normalise_name(answered)
    if a == b:
        return True
    # Short names are too close to one another for an edit to be a typo (LEA, LEO).
    if min(len(a), len(b)) >= 4 and edit_distance(a, b) <= 1:
        return True
    return phonetic_key(a) == phonetic_key(b)


def resembles(
    identity: PivotIdentity,
    birth_name: str,
    given_names: str,
    birth_date: date | None,
    sex: str | None,
) -> bool:
    """Whether a member of a CAF file is ``identity``, within the agency's tolerance."""
    if birth_date != identity.birth_date:
        return False
    if normalise_name(birth_name) != normalise_name(identity.birth_name):
        return False
    answered = normalise_name(given_names).split()
    first = normalise_name(identity.given_names[0])
    if first in answered or all(part in answered for part in first.split()):
        return True
    # A misspelt given name is read as this person's only if the sex agrees too: twins share
    # a birth name and date, and LOUIS and LOUISE are one letter apart. (The sex is not
    # required of an exact match: the staging set writes it wrongly in places.)
    if sex in ("M", "F") and sex != identity.sex:
        return False
    return any(close_given_name(first, name) for name in answered) or all(
        any(close_given_name(part, name) for name in answered) for part in first.split()
    )
