"""Who a connector call is about: a pivot identity or a FranceConnect access token.

The pivot identity is API Particulier's: birth name, given names, birth date, sex and the
INSEE COG codes of the birth place and country. It is validated here, once, so that no
connector ever sends a malformed identity upstream.

Every pattern of this package is tried with ``fullmatch``: with ``match``, a ``$`` also
matches before a final line break, and ``"99100\n"`` would pass for a COG code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Literal

from connectors.errors import InvalidInput
from connectors.url import Encoded, encode_query

FRANCE = "99100"
_COG = re.compile(r"[0-9][0-9AB][0-9]{3}")
_NAME = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{8,4096}")


def normalise_name(value: str) -> str:
    """Upper-case, accents removed, inner spaces folded: how agencies match names."""
    stripped = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return " ".join(stripped.upper().split())


@dataclass(frozen=True)
class PivotIdentity:
    birth_name: str
    given_names: tuple[str, ...]
    birth_date: date
    sex: Literal["M", "F"]
    birth_country: str
    birth_place: str | None = None
    usage_name: str | None = None

    def __post_init__(self) -> None:
        provider = "gateway"
        if not _NAME.fullmatch(self.birth_name):
            raise InvalidInput("birth name is empty or has invalid characters", provider=provider)
        if self.usage_name is not None and not _NAME.fullmatch(self.usage_name):
            raise InvalidInput("usage name has invalid characters", provider=provider)
        if not 1 <= len(self.given_names) <= 3 or not all(
            _NAME.fullmatch(n) for n in self.given_names
        ):
            raise InvalidInput("one to three valid given names are required", provider=provider)
        if self.sex not in ("M", "F"):
            raise InvalidInput("sex must be M or F", provider=provider)
        if not _COG.fullmatch(self.birth_country) or not self.birth_country.startswith("99"):
            raise InvalidInput(
                "birth country must be a 5-digit COG code (99xxx)", provider=provider
            )
        if self.birth_country == FRANCE:
            if self.birth_place is None or not _COG.fullmatch(self.birth_place):
                raise InvalidInput(
                    "birth place must be a 5-character COG code for a person born in France",
                    provider=provider,
                )
        elif self.birth_place is not None:
            raise InvalidInput(
                "birth place is only given for a person born in France", provider=provider
            )
        if not date(1880, 1, 1) <= self.birth_date <= date(2200, 1, 1):
            raise InvalidInput("birth date is out of range", provider=provider)

    def key(self) -> str:
        """Stable, normalised text of the identity: the input of pseudonyms and cache keys."""
        cached: str | None = self.__dict__.get("_key")
        if cached is None:
            cached = self._compute_key()
            # Frozen, so computed once; several sources ask for it in one request.
            object.__setattr__(self, "_key", cached)
        return cached

    def _compute_key(self) -> str:
        return "|".join(
            [
                normalise_name(self.birth_name),
                ",".join(normalise_name(n) for n in self.given_names),
                self.birth_date.isoformat(),
                self.sex,
                self.birth_place or "",
                self.birth_country,
            ]
        )

    def query_params(self) -> list[tuple[str, str]]:
        """API Particulier's civility parameters, in its own names (a fresh list each time,
        built once per identity: every agency call of a person sends them)."""
        return list(self._query_params)

    def query(self) -> Encoded:
        """The same parameters, percent-encoded once for every call that sends them."""
        return self._query

    @cached_property
    def _query(self) -> Encoded:
        return Encoded(encode_query(self._query_params))

    @cached_property
    def _query_params(self) -> tuple[tuple[str, str], ...]:
        params: list[tuple[str, str]] = [("nomNaissance", self.birth_name)]
        if self.usage_name:
            params.append(("nomUsage", self.usage_name))
        params += [("prenoms[]", n) for n in self.given_names]
        params += [
            ("anneeDateNaissance", str(self.birth_date.year)),
            ("moisDateNaissance", str(self.birth_date.month)),
            ("jourDateNaissance", str(self.birth_date.day)),
            ("sexeEtatCivil", self.sex),
            ("codeCogInseePaysNaissance", self.birth_country),
        ]
        if self.birth_place:
            params.append(("codeCogInseeCommuneNaissance", self.birth_place))
        return tuple(params)

    def matches(self, birth_name: str, given_names: list[str] | str, birth_date: str) -> bool:
        """Whether an identity echoed by an agency is this one (names compared normalised)."""
        firsts = [given_names] if isinstance(given_names, str) else given_names
        firsts_norm = {normalise_name(n) for part in firsts for n in part.split()}
        return (
            normalise_name(birth_name) == normalise_name(self.birth_name)
            and normalise_name(self.given_names[0]) in firsts_norm
            and birth_date == self.birth_date.isoformat()
        )


@dataclass(frozen=True)
class FranceConnectToken:
    """A citizen's FranceConnect access token: the citizen is present and consented."""

    access_token: str

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.access_token):
            raise InvalidInput("malformed FranceConnect token", provider="gateway")

    def key(self) -> str:
        return "fc:" + self.access_token


Subject = PivotIdentity | FranceConnectToken
