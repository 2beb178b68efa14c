"""CNAV: retirement pensions paid and the ASPA (minimum vieillesse)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.person import Person

INFO = AgencyInfo("cnav", "CNAV", "52", "Aucune carrière connue pour cette personne.")


def render(request: Request, person: Person) -> object:
    aspa = person.rights.aspa
    return {
        "identite": person.identity.echo(),
        "pensions": [
            {
                "regime": p.regime,
                "type": p.kind,
                "montant_mensuel_brut": p.monthly_gross,
                "montant_mensuel_net": p.monthly_net,
                "date_effet": p.since.isoformat(),
            }
            for p in person.pensions
        ],
        "aspa": {
            "est_beneficiaire": aspa is not None,
            "montant_mensuel": None if aspa is None else aspa.amount,
            "date_debut_droit": None if aspa is None else aspa.since.isoformat(),
        },
    }


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)

    async def retraite(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/retraite/identite", retraite, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
