"""CNAM: health-insurance fund and complémentaire santé solidaire with its renewal date."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.person import Person
from sandbox.population import Population

INFO = AgencyInfo("cnam", "CNAM", "53", "Aucun assuré ne correspond à cette personne.")


def renderer(population: Population) -> Callable[[Request, Person], object]:
    def render(request: Request, person: Person) -> object:
        commune = COMMUNE_BY_COG[population.household_of(person).address.commune]
        css = person.rights.css
        return {
            "identite": person.identity.echo(),
            "organisme": {
                "code": f"{commune.department}1"[:3],
                "libelle": f"CPAM {commune.department_name}",
            },
            "css": {
                "est_beneficiaire": css is not None,
                "avec_participation": None if css is None else bool(css.with_increase),
                "date_debut_droit": None if css is None else css.since.isoformat(),
                "date_renouvellement": None
                if css is None or css.renewal is None
                else css.renewal.isoformat(),
            },
        }

    return render


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)
    render = renderer(setup.population)

    async def assurance(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/assurance-maladie/identite", assurance, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
