"""The sandbox's dossiers, in memory (lost when the sandbox stops)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.demarches.values import Value

BROUILLON = "brouillon"
EN_CONSTRUCTION = "en_construction"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def prefill_token() -> str:
    """24 base58 characters, as Rails' ``has_secure_token`` makes DS's ``prefill_token``."""
    return "".join(secrets.choice(_BASE58) for _ in range(24))


@dataclass
class Dossier:
    number: int
    procedure: int
    prefill_token: str
    created_at: datetime
    updated_at: datetime
    values: dict[int, Value]  # top-level champ stable id → value
    prefilled_ids: frozenset[int]  # the champs (children too) the prefill gave a value
    identity: dict[str, str]  # nom, prenom, genre ("M." or "Mme")
    prefilled: bool = True
    state: str = BROUILLON
    depose_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class DossierStore:
    def __init__(self, first_number: int = 1) -> None:
        self._lock = threading.Lock()
        self._next = first_number
        self._by_number: dict[int, Dossier] = {}
        self._by_token: dict[str, Dossier] = {}

    def create(
        self,
        procedure: int,
        values: dict[int, Value],
        prefilled_ids: frozenset[int],
        identity: dict[str, str],
        now: datetime,
        prefilled: bool = True,
    ) -> Dossier:
        with self._lock:
            dossier = Dossier(
                self._next,
                procedure,
                prefill_token(),
                now,
                now,
                values,
                prefilled_ids,
                identity,
                prefilled=prefilled,
            )
            self._next += 1
            self._by_number[dossier.number] = dossier
            self._by_token[dossier.prefill_token] = dossier
            return dossier

    def by_number(self, number: int) -> Dossier | None:
        with self._lock:
            return self._by_number.get(number)

    def by_token(self, token: str) -> Dossier | None:
        with self._lock:
            return self._by_token.get(token)

    def of_procedure(self, procedure: int) -> list[Dossier]:
        with self._lock:
            return [d for d in self._by_number.values() if d.procedure == procedure]
