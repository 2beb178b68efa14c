"""API Particulier's conventions, shared by every simulated agency.

Pivot-identity parameters, the ``recipient`` SIRET, JSON bodies and the error envelope
``{"errors": [{code, title, detail, source, meta: {provider}}]}``. Handlers raise
``ProtocolError``; the agency wrapper turns it into the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.responses import Response

from sandbox.gazetteer import FRANCE, luhn_valid
from sandbox.population import BirthQuery

_COG = re.compile(r"[0-9][0-9AB][0-9]{3}")
_COUNTRY = re.compile(r"99[0-9]{3}")
_NAME = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}")
_SIRET = re.compile(r"[0-9]{14}")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_NUMBER = re.compile(r"[0-9]{1,9}")
_LA_POSTE = "356000000"  # La Poste's establishments use a digit-sum rule instead of Luhn


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@dataclass(frozen=True)
class ProtocolError(Exception):
    status: int
    code: str
    title: str
    detail: str
    parameter: str | None = None
    provider: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        meta: dict[str, object] = {} if self.provider is None else {"provider": self.provider}
        source = None if self.parameter is None else {"parameter": self.parameter}
        error = {
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "source": source,
            "meta": meta,
        }
        return {"errors": [error]}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unauthorized(
    detail: str = "Votre token n'est pas valide ou n'est pas renseigné",
) -> ProtocolError:
    return ProtocolError(401, "00101", "Interdit", detail, "token")


def unprocessable(detail: str, parameter: str | None = None, code: str = "00366") -> ProtocolError:
    return ProtocolError(422, code, "Entité non traitable", detail, parameter)


def not_found(code: str, detail: str, provider: str) -> ProtocolError:
    return ProtocolError(404, code, "Entité non trouvée", detail, provider=provider)


def siret_valid(value: str) -> bool:
    if not _SIRET.fullmatch(value):
        return False
    if value.startswith(_LA_POSTE):
        return sum(int(c) for c in value) % 5 == 0
    return luhn_valid(value)


def check_recipient(params: QueryParams) -> str:
    recipient = params.get("recipient")
    if not recipient:
        raise unprocessable("Le paramètre recipient est obligatoire", "recipient", "00203")
    if not siret_valid(recipient):
        raise unprocessable(
            "Le paramètre recipient n'est pas un numéro de SIRET valide", "recipient", "00210"
        )
    return recipient


@dataclass(frozen=True)
class PivotQuery:
    nom_naissance: str
    prenoms: tuple[str, ...]
    sexe: str
    birth: BirthQuery
    nom_usage: str | None = None


def _int(params: QueryParams, name: str, low: int, high: int, required: bool) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise unprocessable(f"Le paramètre {name} est obligatoire", name)
        return None
    # ASCII digits only: str.isdigit() also says yes to "²" or "١", which int() refuses.
    if not _NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise unprocessable(f"Le paramètre {name} n'est pas correctement formaté", name)
    return int(raw)


def parse_traits(params: QueryParams, on: date) -> PivotQuery:
    """Birth name, given names, sex and birth date (year required, month and day optional):
    what identifies a person when the birth place is not known; ``ProtocolError`` (422)
    otherwise."""
    nom = params.get("nomNaissance", "").strip()
    if not _NAME.fullmatch(nom):
        raise unprocessable("Le paramètre nomNaissance est absent ou mal formaté", "nomNaissance")
    prenoms = [p.strip() for p in params.getlist("prenoms[]") + params.getlist("prenoms")]
    if not 1 <= len(prenoms) <= 3 or not all(_NAME.fullmatch(p) for p in prenoms):
        raise unprocessable("Le paramètre prenoms[] doit contenir 1 à 3 prénoms valides", "prenoms")
    sexe = params.get("sexeEtatCivil")
    if sexe not in ("M", "F"):
        raise unprocessable("Le paramètre sexeEtatCivil doit valoir M ou F", "sexeEtatCivil")
    year = _int(params, "anneeDateNaissance", 1880, on.year, required=True)
    assert year is not None
    month = _int(params, "moisDateNaissance", 1, 12, required=False)
    day = _int(params, "jourDateNaissance", 1, 31, required=False) if month else None
    if month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            raise unprocessable("La date de naissance n'existe pas", "jourDateNaissance") from None
    return PivotQuery(nom, tuple(prenoms), sexe, BirthQuery(year, month, day))


def parse_pivot(params: QueryParams, on: date) -> PivotQuery:
    """Validate API Particulier's civility parameters; ``ProtocolError`` (422) otherwise."""
    traits = parse_traits(params, on)
    usage = params.get("nomUsage") or None
    if usage is not None and not _NAME.fullmatch(usage):
        raise unprocessable("Le paramètre nomUsage est mal formaté", "nomUsage")
    country = params.get("codeCogInseePaysNaissance", "")
    if not _COUNTRY.fullmatch(country):
        raise unprocessable(
            "Le paramètre codeCogInseePaysNaissance doit être un code COG à 5 chiffres",
            "codeCogInseePaysNaissance",
        )
    commune = params.get("codeCogInseeCommuneNaissance") or None
    if country == FRANCE:
        if commune is None or not _COG.fullmatch(commune):
            raise unprocessable(
                "Le paramètre codeCogInseeCommuneNaissance est obligatoire pour une personne "
                "née en France",
                "codeCogInseeCommuneNaissance",
            )
    elif commune is not None:
        raise unprocessable(
            "Le paramètre codeCogInseeCommuneNaissance ne s'applique qu'aux personnes nées "
            "en France",
            "codeCogInseeCommuneNaissance",
        )
    birth = replace(traits.birth, country=country, commune=commune)
    return replace(traits, birth=birth, nom_usage=usage)


def parse_month_param(params: QueryParams, name: str, default: str) -> str:
    raw = params.get(name) or default
    if not _MONTH.fullmatch(raw):
        raise unprocessable(f"Le paramètre {name} doit être un mois AAAA-MM", name)
    return raw


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def envelope(data: object, as_of: date | None = None) -> dict[str, object]:
    meta: dict[str, object] = {} if as_of is None else {"as_of": as_of.isoformat()}
    return {"data": data, "links": {}, "meta": meta}
