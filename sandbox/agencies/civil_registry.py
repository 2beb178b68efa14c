"""Civil registry (RNIPP-like): the registry's own record of a person, and death.

Two ways in: the record of a known pivot identity (``/v1/etat-civil/identite``), and the
identification by traits (``/v1/etat-civil/recherche``), as the RNIPP identifies a person
from their birth name, given names, birth date and sex when the birth place is not known:
exactly one match answers the full record, none is a 404 and several a 409, since picking
one of two homonyms would hand out someone else's data.
"""

from __future__ import annotations

from datetime import date

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.person import Person
from sandbox.protocol import PivotQuery, ProtocolError, check_recipient, parse_traits

INFO = AgencyInfo("civil_registry", "INSEE", "55", "Aucun acte d'état civil ne correspond.")
AMBIGUOUS = "Plusieurs personnes correspondent à ces traits d'identité."


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


def search_traits(params: QueryParams, on: date) -> PivotQuery:
    """The traits of a search: a pivot identity without its birth place (422 otherwise)."""
    check_recipient(params)
    return parse_traits(params, on)


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)

    def resolve_traits(request: Request) -> Person:
        query = search_traits(request.query_params, agency.population.reference_date)
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
