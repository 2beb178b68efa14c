"""The access context every data query carries: purpose, recipient, object.

As API Entreprise asks: the recipient is the SIRET of the public body that will use the data
(checked with its Luhn key), the object is the case or procedure reference (≤ 50 chars).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exchange.errors import InvalidRequest

_PURPOSE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_SIRET = re.compile(r"^[0-9]{14}$")
# La Poste's establishments share one SIREN and are numbered outside the Luhn rule.
_LA_POSTE_SIREN = "356000000"
MAX_OBJECT_LENGTH = 50


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
    if not _SIRET.match(siret):
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
        if not _PURPOSE.match(self.purpose):
            raise InvalidRequest(
                "purpose must be an identifier of the policy catalogue (lower-case, 2-64 chars)"
            )
        if not siret_valid(self.recipient):
            raise InvalidRequest("recipient must be a valid SIRET (14 digits with its Luhn key)")
        obj = self.object.strip()
        if not obj or len(obj) > MAX_OBJECT_LENGTH or any(ord(c) < 32 for c in obj):
            raise InvalidRequest(
                f"object must be a case or procedure reference of 1 to {MAX_OBJECT_LENGTH} "
                "printable characters"
            )
