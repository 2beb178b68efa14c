"""démarches-simplifiées' typed ids: base64 of ``<Type>-<id>``, as GraphQL-Ruby encodes them.

DS writes a champ's id padded in its GraphQL answers and without ``=`` in prefill keys
(``champ_<id>``); the sandbox's stable ids have six digits, so its champ ids have no padding
either way. A champ inside a repetition row is ``Champ-<stable id>|<row id>`` in a dossier.
"""

from __future__ import annotations

import base64
import binascii


def typed_id(kind: str, value: int | str) -> str:
    return base64.b64encode(f"{kind}-{value}".encode()).decode("ascii")


def champ_id(stable_id: int) -> str:
    """The id as a prefill key writes it (``champ_<id>``): without padding."""
    return typed_id("Champ", stable_id).rstrip("=")


def row_champ_id(stable_id: int, row_id: int) -> str:
    return typed_id("Champ", f"{stable_id}|{row_id}")


def stable_id_of(key: str) -> int | None:
    """The stable id a ``champ_<id>`` key names, or None (DS ignores such a key)."""
    if not key.startswith("champ_"):
        return None
    raw = key[len("champ_") :]
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, number = decoded.partition("-")
    if kind != "Champ" or not number.isdigit():
        return None
    return int(number)
