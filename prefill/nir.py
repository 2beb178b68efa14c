"""The social security number (NIR, numéro d'inscription au répertoire) a person types.

The INSEE builds it from the civil status: 13 characters, then a 2-digit key (service-public.fr,
"Que signifie le numéro de sécurité sociale ?", F33078):

======  =======================================================================
1       sex: 1 man, 2 woman; 3 and 4 (a person born abroad being registered) and
        7 and 8 (a provisional number, the NIA, given pending registration) — the
        ANS "Référentiel INS" (identifiant national de santé), which the matricule
        INS shares with the NIR, accepts the same leading digits
2–3     year of birth, last two digits
4–5     month of birth: 01–12; 20–42 and 50–99 are the fictitious months the INSEE
        gives when the civil-status document does not state the month (Référentiel INS)
6–10    place of birth: department (2A, 2B in Corsica; 97x, 98x overseas; 99 abroad)
        and commune or country
11–13   order number of the birth certificate
14–15   key: 97 − (the 13-digit number mod 97), Corsica's 2A and 2B counted as 19 and 18
======  =======================================================================

Spaces, as printed on the carte Vitale (made up: "2 90 05 99 350 003 48"), are allowed and
removed.
Nothing else about the number is checked (a valid key says it was not mistyped, not that it
exists), and the number is never logged.
"""

from __future__ import annotations

import re

from prefill.errors import InvalidValue

LENGTH = 15
SEX_DIGITS = frozenset("123478")
_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")
_CORSICA = {"2A": "19", "2B": "18"}
_SPACES = re.compile(r"[\s\u202f\u00a0]+")


def key(first13: str) -> int:
    """The control key of the first 13 characters (Corsica's 2A/2B allowed)."""
    department = first13[5:7]
    digits = first13[:5] + _CORSICA.get(department, department) + first13[7:]
    return 97 - int(digits) % 97


def _month_ok(month: int) -> bool:
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


def normalized(name: str, text: str) -> str:
    """``text`` without spaces, in capitals, if it is a well-formed NIR; else ``InvalidValue``."""
    nir = _SPACES.sub("", text).upper()
    problem = "not a valid social security number (NIR): "
    if len(nir) != LENGTH:
        raise InvalidValue(name, problem + f"expected {LENGTH} characters, 13 and a 2-digit key")
    if not _SHAPE.fullmatch(nir):
        raise InvalidValue(name, problem + "only digits, and 2A or 2B for a Corsican department")
    if nir[0] not in SEX_DIGITS:
        raise InvalidValue(name, problem + "the first digit must be 1, 2, 3, 4, 7 or 8")
    if not _month_ok(int(nir[3:5])):
        raise InvalidValue(name, problem + "the month (4th and 5th digits) does not exist")
    if int(nir[13:]) != key(nir[:13]):
        raise InvalidValue(name, problem + "the key (last two digits) does not match")
    return nir
