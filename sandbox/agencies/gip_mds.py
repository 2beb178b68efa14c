"""GIP-MDS: monthly resources declared by payers (salaries, unemployment, pensions) and the
turnover micro-entrepreneurs declare to the Urssaf, with its activity category."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agencies.window import month_window
from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.months import month_text
from sandbox.person import Person, Stream

INFO = AgencyInfo("gip_mds", "GIP-MDS", "50", "Aucune ressource déclarée pour cette personne.")


def _payment(stream: Stream) -> dict[str, object]:
    payment: dict[str, object] = {
        "payeur": {"siret": stream.payer_siret, "type": stream.payer_type},
        "nature": stream.nature,
        "montant_net_social": stream.net_social,
        "montant_net_fiscal": stream.net_fiscal,
    }
    if stream.category is not None:  # a micro-entrepreneur's turnover: its category
        payment["categorie"] = stream.category
    return payment


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)
    reference = setup.population.reference
    oldest = reference - 23

    def render(request: Request, person: Person) -> object:
        periods = []
        missing = []
        for month in month_window(request.query_params, reference):
            if month in person.missing_months or not oldest <= month <= reference:
                missing.append(month_text(month))
                continue
            payments = [_payment(s) for s in person.streams if s.pays_in(month)]
            periods.append({"mois": month_text(month), "versements": payments})
        return {"identite": person.identity.echo(), "periodes": periods, "mois_manquants": missing}

    async def ressources(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/ressources/identite", ressources, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
