"""DGFiP: the tax household of a declarant and its revenu fiscal de référence."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import AgencyInfo, AgencySetup, oauth_agency
from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.months import age_on
from sandbox.person import TURNOVER_CATEGORIES, Person
from sandbox.protocol import unprocessable
from sandbox.taxable import reference_income

INFO = AgencyInfo("dgfip", "DGFIP", "51", "Aucun foyer fiscal ne correspond à cette personne.")
_JOINT = ("marie", "pacse")


def _parts(declarants: int, dependants: int, lone_parent: bool) -> float:
    parts = float(declarants) + 0.5 * min(dependants, 2) + 1.0 * max(0, dependants - 2)
    return parts + (0.5 if lone_parent and dependants else 0.0)


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)
    population = setup.population
    ref_year = population.reference_date.year

    def render(request: Request, person: Person) -> object:
        raw = request.query_params.get("anneeRevenus") or str(ref_year - 1)
        if not (raw.isascii() and raw.isdigit()) or len(raw) != 4:
            raise unprocessable(
                "Le paramètre anneeRevenus doit être une année AAAA", "anneeRevenus"
            )
        year = int(raw)
        adult = age_on(person.identity.date_naissance, population.reference_date) >= 18
        if not ref_year - 3 <= year <= ref_year - 1 or not adult:
            raise agency.not_found()
        household = population.household_of(person)
        joint = household.situation in _JOINT and person.index in household.adults
        declarants = [population.persons[i] for i in household.adults] if joint else [person]
        dependants = (
            len(household.children) if household.adults[0] in {d.index for d in declarants} else 0
        )
        months = range(year * 12, year * 12 + 12)
        taxable = sum(
            s.net_fiscal
            for d in declarants
            for m in months
            for s in d.streams
            if s.pays_in(m) and s.nature != "revenu_independant"
        )
        turnovers = [
            (category, sum(s.net_social for s in own for m in months if s.pays_in(m)))
            for d in declarants
            for category in TURNOVER_CATEGORIES
            if (own := [s for s in d.streams if s.category == category])
        ]
        situation = household.situation if household.situation != "concubin" else "celibataire"
        if not joint and situation in _JOINT:
            situation = "celibataire"
        commune = COMMUNE_BY_COG[household.address.commune]
        return {
            "identite": person.identity.echo(),
            "annee_revenus": year,
            "revenu_fiscal_reference": reference_income(taxable, turnovers),
            "nombre_parts": _parts(len(declarants), dependants, not joint),
            "situation_familiale": situation,
            "nombre_personnes_a_charge": dependants,
            "declarants": [
                {
                    "nom_naissance": d.identity.nom_naissance,
                    "nom_usage": d.identity.nom_usage,
                    "prenoms": list(d.identity.prenoms),
                    "date_naissance": d.identity.date_naissance.isoformat(),
                    "sexe": d.identity.sexe,
                }
                for d in declarants
            ],
            "adresse_fiscale": {
                "lignes": [f"{household.address.numero} {household.address.voie}"],
                "code_postal": commune.postal_code,
                "localite": commune.name,
                "code_cog_insee_commune": commune.cog,
                "pays": "FRANCE",
            },
        }

    async def foyer(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/foyer-fiscal/identite", foyer, methods=["GET"]))
    app = agency.app(routes)
    app.state.agency = agency
    return app
