"""The access context every data query carries: purpose, recipient, object.

As API Entreprise asks: the recipient is the SIRET of the public body that will use the data
(checked with its Luhn key), the object is the case or procedure reference (≤ 50 chars).

Every value is checked whole (``re.fullmatch``: a ``$`` also matches before a final line
break) and refused rather than trimmed: what is checked is what the audit log stores, and an
object holding a line break, a control or a bidirectional override would forge lines or
reorder text in the log's exports and consoles.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from exchange.errors import InvalidRequest

_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{1,63}")
_SIRET = re.compile(r"[0-9]{14}")
# La Poste's establishments share one SIREN and are numbered outside the Luhn rule.
_LA_POSTE_SIREN = "356000000"
MAX_OBJECT_LENGTH = 50
# Controls (Cc), format characters (Cf: bidi embeddings, overrides and isolates U+202A–U+202E
# and U+2066–U+2069, marks, zero-width joiners), line and paragraph separators (Zl, Zp),
# surrogates, private use and unassigned code points: none belongs in a case reference.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable_reference(text: str) -> bool:
    """Whether ``text`` holds only characters that display as themselves on one line."""
    return not any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in text)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def siret_valid(siret: str) -> bool:
    if not _SIRET.fullmatch(siret):
        return False
    if luhn_valid(siret[:9]) and luhn_valid(siret):
        return True
    return siret.startswith(_LA_POSTE_SIREN) and sum(ord(c) - 48 for c in siret) % 5 == 0


@dataclass(frozen=True)
class AccessContext:
    purpose: str
    recipient: str
    object: str

    def __post_init__(self) -> None:
        if not _PURPOSE.fullmatch(self.purpose):
            raise InvalidRequest(
                "purpose must be an identifier of the policy catalogue (lower-case, 2-64 chars)"
            )
        if not siret_valid(self.recipient):
            raise InvalidRequest("recipient must be a valid SIRET (14 digits with its Luhn key)")
        obj = self.object
        if not obj.strip() or len(obj) > MAX_OBJECT_LENGTH or not printable_reference(obj):
            raise InvalidRequest(
                f"object must be a case or procedure reference of 1 to {MAX_OBJECT_LENGTH} "
                "printable characters"
            )
