"""Civil registry (RNIPP-like): the registry's own record of a person, and death."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.person import Person

INFO = AgencyInfo("civil_registry", "INSEE", "55", "Aucun acte d'état civil ne correspond.")


def render(request: Request, person: Person) -> object:
    identity = person.identity
    return {
        "identite": identity.echo(),
        "nom_usage": identity.nom_usage,
        "code_cog_insee_commune_naissance": identity.code_commune_naissance,
        "code_cog_insee_pays_naissance": identity.code_pays_naissance,
        "date_deces": person.date_deces.isoformat() if person.date_deces else None,
    }


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)

    async def etat_civil(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/etat-civil/identite", etat_civil, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
