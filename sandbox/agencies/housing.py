"""Housing (CAF): occupancy, rent history and housing aid of the person's household."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agencies.window import month_window
from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.months import month_text
from sandbox.person import Household, Person

INFO = AgencyInfo(
    "housing", "CNAF", "54", "Dossier allocataire inexistant. Le document ne peut être édité."
)
_REVISION = 1.035  # yearly rent revision (IRL)


def _rent(household: Household, month: int) -> tuple[float, float] | None:
    housing = household.housing
    if housing.rent is None or housing.charges is None:
        return None
    if household.moved_in is not None and month < household.moved_in:
        previous = housing.previous_rent or housing.rent
        return previous, round(previous * housing.charges / housing.rent, 2)
    if month < housing.rent_revised_on:
        revisions = 1 + (housing.rent_revised_on - month - 1) // 12
        factor = _REVISION**revisions
        return round(housing.rent / factor, 2), round(housing.charges / factor, 2)
    return housing.rent, housing.charges


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)
    population = setup.population
    reference = population.reference

    def render(request: Request, person: Person) -> object:
        household = population.household_of(person)
        housing = household.housing
        history = []
        for month in month_window(request.query_params, reference):
            paid = _rent(household, month) if reference - 23 <= month <= reference else None
            if paid is not None:
                history.append({"mois": month_text(month), "loyer": paid[0], "charges": paid[1]})
        commune = COMMUNE_BY_COG[household.address.commune]
        return {
            "identite": person.identity.echo(),
            "statut_occupation": housing.occupancy,
            "loyer_mensuel": housing.rent,
            "charges_mensuelles": housing.charges,
            "code_cog_insee_commune": commune.cog,
            "zone": commune.zone,
            "historique_loyers": history,
            "aide_logement": {
                "est_beneficiaire": housing.aid_kind is not None,
                "type": housing.aid_kind,
                "montant_mensuel": housing.aid_amount,
            },
        }

    def resolve(request: Request) -> Person:
        person = agency.resolve_pivot(request)
        if person.unknown_to_caf:
            raise agency.not_found()
        return person

    async def logement(request: Request) -> Response:
        return await agency.answer(request, resolve, render)

    routes.append(Route("/v1/logement/identite", logement, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
