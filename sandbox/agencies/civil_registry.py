"""Civil registry (RNIPP-like): the registry's own record of a person, and death.

Two ways in: the record of a known pivot identity (``/v1/etat-civil/identite``), and the
identification by traits (``/v1/etat-civil/recherche``), as the RNIPP identifies a person
from their birth name, given names, birth date and sex when the birth place is not known:
exactly one match answers the full record, none is a 404 and several a 409, since picking
one of two homonyms would hand out someone else's data.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.person import Person
from sandbox.population import BirthQuery
from sandbox.protocol import PivotQuery, ProtocolError, check_recipient, unprocessable

INFO = AgencyInfo("civil_registry", "INSEE", "55", "Aucun acte d'état civil ne correspond.")
AMBIGUOUS = "Plusieurs personnes correspondent à ces traits d'identité."
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ' -]{1,80}$")


def render(request: Request, person: Person) -> object:
    identity = person.identity
    return {
        "identite": identity.echo(),
        "nom_usage": identity.nom_usage,
        "code_cog_insee_commune_naissance": identity.code_commune_naissance,
        "code_cog_insee_pays_naissance": identity.code_pays_naissance,
        "date_deces": person.date_deces.isoformat() if person.date_deces else None,
    }


def ambiguous() -> ProtocolError:
    return ProtocolError(
        409, f"{INFO.code_prefix}009", "Conflit", AMBIGUOUS, provider=INFO.provider
    )


def _number(params: QueryParams, name: str, low: int, high: int, required: bool) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise unprocessable(f"Le paramètre {name} est obligatoire", name)
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise unprocessable(f"Le paramètre {name} n'est pas correctement formaté", name)
    return int(raw)


def parse_traits(params: QueryParams, on: date) -> PivotQuery:
    """The traits of a search: a pivot identity without its birth place (422 otherwise)."""
    check_recipient(params)
    nom = params.get("nomNaissance", "").strip()
    if not _NAME.match(nom):
        raise unprocessable("Le paramètre nomNaissance est absent ou mal formaté", "nomNaissance")
    prenoms = [p.strip() for p in params.getlist("prenoms[]")]
    if not 1 <= len(prenoms) <= 3 or not all(_NAME.match(p) for p in prenoms):
        raise unprocessable("Le paramètre prenoms[] doit contenir 1 à 3 prénoms valides", "prenoms")
    sexe = params.get("sexeEtatCivil")
    if sexe not in ("M", "F"):
        raise unprocessable("Le paramètre sexeEtatCivil doit valoir M ou F", "sexeEtatCivil")
    year = _number(params, "anneeDateNaissance", 1880, on.year, required=True)
    assert year is not None
    month = _number(params, "moisDateNaissance", 1, 12, required=False)
    day = _number(params, "jourDateNaissance", 1, 31, required=False) if month else None
    if month is not None and day is not None:
        try:
            date(year, month, day)
        except ValueError:
            raise unprocessable("La date de naissance n'existe pas", "jourDateNaissance") from None
    return PivotQuery(nom, tuple(prenoms), sexe, BirthQuery(year, month, day))


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)

    def resolve_traits(request: Request) -> Person:
        query = parse_traits(request.query_params, agency.population.reference_date)
        found = agency.population.find(query.nom_naissance, query.prenoms, query.sexe, query.birth)
        if not found:
            raise agency.not_found()
        if len(found) > 1:
            raise ambiguous()
        return found[0]

    async def etat_civil(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    async def recherche(request: Request) -> Response:
        return await agency.answer(request, resolve_traits, render)

    routes.append(Route("/v1/etat-civil/identite", etat_civil, methods=["GET"]))
    routes.append(Route("/v1/etat-civil/recherche", recherche, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
