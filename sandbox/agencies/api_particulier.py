"""API Particulier v3 as the gateway sees it: DSS statuses, quotient familial, France Travail,
MESRI student status, CNOUS student grant status.

Bodies follow the public OpenAPI document and the official staging cases field for field;
errors reuse the DSS hub's codes (``37xxx``, provider CNAV), France Travail's (``24xxx``),
the MESRI's (``25xxx``) and the CNOUS's (``26xxx``).

The MESRI and the CNOUS answer by civility (``/identite``) or for the owner of a
FranceConnect token (``/france_connect``); both answer their own 404 for anyone they cannot
name, known to the population or not. The CNOUS's civility takes one to three given names,
the full birth date, the sex optional and ``codeCogInseeCommuneNaissance`` for a person born
in France (left out, or a country's ``99xxx`` code, for a person born abroad); its
FranceConnect answer has no ``identite`` block, as the spec has it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.admin import loopback_only
from sandbox.agencies.caf_view import family_quotient, member, postal_address
from sandbox.agencies.cnous_view import civility, grant, holds_grant, no_grant
from sandbox.agencies.mesri_view import no_student, pivot_params, student_status
from sandbox.agency import Agency, AgencyInfo, AgencySetup
from sandbox.france_connect import FranceConnectTokens
from sandbox.france_connect_pages import shortcut_token
from sandbox.gazetteer import COMMUNE_BY_COG, FRANCE
from sandbox.months import first_day, month_of
from sandbox.person import Person, Right
from sandbox.protocol import (
    JSONResponse,
    bearer,
    check_recipient,
    not_found,
    parse_pivot,
    unauthorized,
    unprocessable,
)

INFO = AgencyInfo(
    "api_particulier",
    "CNAV",
    "37",
    "Dossier allocataire inexistant. Le document ne peut être édité.",
)
_IDENTIFIANT = re.compile(r"[A-Za-z0-9]{1,20}")
_NUMBER = re.compile(r"[0-9]{1,4}")
_CATEGORIES = {
    1: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS",
    2: "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PARTIEL",
    3: "PERSONNE SANS EMPLOI DISPONIBLE DUREE DETERMINEE OU SAISON",
    4: "PERSONNE SANS EMPLOI NON DISPONIBLE IMMEDIATEMENT",
    5: "PERSONNE POURVUE D'UN EMPLOI A LA RECHERCHE D'UN AUTRE",
}
Render = Callable[[Request, Person], object]


def _status(right: Right | None, option: str | None) -> dict[str, object]:
    data: dict[str, object] = {"est_beneficiaire": right is not None}
    if option is not None:
        data[option] = None if right is None else bool(right.with_increase)
    data["date_debut_droit"] = None if right is None else right.since.isoformat()
    return data


class ApiParticulier:
    def __init__(self, setup: AgencySetup, fc_tokens: FranceConnectTokens) -> None:
        self.token = setup.api_particulier_token
        self.population = setup.population
        # The sandbox FranceConnect provider's tokens: the real API Particulier introspects
        # the citizen's token at FranceConnect, we look it up in the shared registry.
        self.fc_tokens = fc_tokens
        self.agency = Agency(INFO, setup.population, setup.events, setup.faults, self.check_token)

    # --- authentication and resolution ----------------------------------------------------

    def check_token(self, request: Request) -> None:
        token = bearer(request.headers.get("authorization"))
        if token is None or not hmac.compare_digest(token, self.token):
            raise unauthorized()

    def check_fc_token(self, request: Request) -> None:
        token = bearer(request.headers.get("authorization"))
        if token is None or self.fc_tokens.live(token) is None:
            raise unauthorized()

    def _known(self, person: Person) -> Person:
        if person.unknown_to_caf:
            raise self.agency.not_found()
        return person

    def resolve_identity(self, request: Request) -> Person:
        return self._known(self.agency.resolve_pivot(request))

    def resolve_fc(self, request: Request) -> Person:
        check_recipient(request.query_params)
        grant = self.fc_tokens.live(bearer(request.headers.get("authorization")) or "")
        if grant is None:  # expired between the check and now
            raise unauthorized()
        return self._known(self.population.persons[grant.person])

    def resolve_student(self, request: Request) -> Person:
        """The MESRI answers "no student found" for anyone it cannot name, known or not."""
        params = request.query_params
        check_recipient(params)
        query = parse_pivot(pivot_params(params), self.population.reference_date)
        found = self.population.find(query.nom_naissance, query.prenoms, query.sexe, query.birth)
        if len(found) != 1:
            raise no_student()
        return found[0]

    def resolve_grant_holder(self, request: Request) -> Person:
        """The CNOUS answers "no grant holder found" for anyone it cannot name, known or not."""
        params = request.query_params
        check_recipient(params)
        asked = civility(params, self.population.reference_date)
        traits = asked.traits
        found = [
            person
            for sexe in asked.sexes
            for person in self.population.find(
                traits.nom_naissance, traits.prenoms, sexe, asked.birth()
            )
            if not asked.born_abroad() or person.identity.code_pays_naissance != FRANCE
        ]
        if len(found) != 1:
            raise no_grant()
        return found[0]

    def resolve_student_fc(self, request: Request) -> Person:
        check_recipient(request.query_params)
        grant = self.fc_tokens.live(bearer(request.headers.get("authorization")) or "")
        if grant is None:
            raise unauthorized()
        return self.population.persons[grant.person]

    def resolve_seeker(self, request: Request) -> Person:
        params = request.query_params
        check_recipient(params)
        identifiant = params.get("identifiant", "")
        if not _IDENTIFIANT.fullmatch(identifiant):
            raise unprocessable("Le paramètre identifiant est absent ou mal formaté", "identifiant")
        person = self.population.by_france_travail_id(identifiant)
        if person is None:
            raise not_found(
                "24003",
                "Aucune situation France Travail n'a pu être trouvée avec les critères de "
                "recherche fournis.",
                "France Travail",
            )
        return person

    # --- renderers ------------------------------------------------------------------------

    def quotient(self, request: Request, person: Person) -> object:
        params = request.query_params
        ref = self.population.reference
        year_raw, month_raw = params.get("annee"), params.get("mois")
        year = int(year_raw) if year_raw and _NUMBER.fullmatch(year_raw) else None
        month_num = int(month_raw) if month_raw and _NUMBER.fullmatch(month_raw) else None
        if (year_raw and year is None) or (
            month_raw and (month_num is None or not 1 <= month_num <= 12)
        ):
            raise unprocessable(
                "Les paramètres annee et mois doivent être des entiers valides", "mois"
            )
        month = (year if year is not None else ref // 12) * 12 + (month_num or ref % 12 + 1) - 1
        if not ref - 23 <= month <= ref:
            raise unprocessable(
                "Le quotient familial n'est disponible que sur les 24 derniers mois", "annee"
            )
        household = self.population.household_of(person)
        adults = [self.population.persons[i].identity for i in household.adults]
        children = [self.population.persons[i].identity for i in household.children]
        return {
            "allocataires": [member(i) for i in adults],
            "enfants": [member(i) for i in children],
            "adresse": postal_address(self.population, household),
            "quotient_familial": {
                "fournisseur": household.regime,
                "valeur": family_quotient(self.population, person, month),
                "annee": month // 12,
                "mois": month % 12 + 1,
                "annee_calcul": month // 12,
                "mois_calcul": month % 12 + 1,
            },
        }

    def statut(self, request: Request, person: Person) -> object:
        seeker = person.job_seeker
        assert seeker is not None
        identity = person.identity
        household = self.population.household_of(person)
        commune = COMMUNE_BY_COG[household.address.commune]
        return {
            "identifiant": seeker.identifiant,
            "identite": {
                "civilite": "M." if identity.sexe == "M" else "MME",
                "nom_naissance": identity.nom_naissance,
                "nom_usage": identity.nom_usage,
                "prenom": identity.prenoms[0],
                "sexe": "Masculin" if identity.sexe == "M" else "Féminin",
                "date_naissance": identity.date_naissance.isoformat(),
            },
            "contact": {
                "email": person.email,
                "telephone": person.telephone,
                "telephone2": None,
            },
            "adresse": {
                "code_cog_insee_commune": commune.cog,
                "code_postal": commune.postal_code,
                "ligne_complement_adresse": None,
                "ligne_complement_destinataire": None,
                "ligne_complement_distribution": None,
                "ligne_nom": identity.nom_usage or identity.nom_naissance,
                "ligne_voie": f"{household.address.numero} {household.address.voie}",
                "localite": f"{commune.postal_code} {commune.name}",
            },
            "inscription": {
                "date_debut": seeker.since.isoformat(),
                "date_fin": seeker.until.isoformat() if seeker.until else None,
                "code_certification_cnav": "VC",
                "categorie": {"code": seeker.category, "libelle": _CATEGORIES[seeker.category]},
            },
        }

    def indemnites(self, request: Request, person: Person) -> object:
        seeker = person.job_seeker
        assert seeker is not None
        ref = self.population.reference
        payments = []
        for month in range(max(month_of(seeker.since), ref - 23), ref):
            amount = sum(
                s.net_social
                for s in person.streams
                if s.nature == "allocation_chomage" and s.pays_in(month)
            )
            if amount:
                total = round(amount, 2)
                payments.append(
                    {
                        "date_versement": first_day(month + 1).isoformat(),
                        "montant_total": total,
                        "montant_allocations": total,
                        "montant_aides": 0.0,
                        "montant_autres": 0.0,
                    }
                )
        return {"identifiant": seeker.identifiant, "paiements": payments}

    # --- routes ---------------------------------------------------------------------------

    def _dss(self, render: Render, fc: bool) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            if fc:
                return await self.agency.answer(
                    request, self.resolve_fc, render, auth=self.check_fc_token, as_of=False
                )
            return await self.agency.answer(request, self.resolve_identity, render, as_of=False)

        return endpoint

    def _student(self, fc: bool) -> Callable[[Request], object]:
        def render(request: Request, person: Person) -> object:
            return student_status(self.population, person)

        async def endpoint(request: Request) -> Response:
            return await self.agency.answer(
                request,
                self.resolve_student_fc if fc else self.resolve_student,
                render,
                auth=self.check_fc_token if fc else None,
                as_of=False,
                swap=lambda p: self.population.other_than(p, lambda o: o.activity == "etudiant"),
            )

        return endpoint

    def _grant(self, fc: bool) -> Callable[[Request], object]:
        def render(request: Request, person: Person) -> object:
            return grant(self.population, person, identity=not fc)

        ref = self.population.reference

        async def endpoint(request: Request) -> Response:
            return await self.agency.answer(
                request,
                self.resolve_student_fc if fc else self.resolve_grant_holder,
                render,
                auth=self.check_fc_token if fc else None,
                as_of=False,
                swap=lambda p: self.population.other_than(p, lambda o: holds_grant(o, ref)),
            )

        return endpoint

    def _seeker(self, render: Render) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            return await self.agency.answer(
                request,
                self.resolve_seeker,
                render,
                as_of=False,
                swap=lambda p: self.population.other_than(p, lambda o: o.job_seeker is not None),
            )

        return endpoint

    async def issue_fc_token(self, request: Request) -> Response:
        # Kept for existing callers: the token comes from the FranceConnect provider's registry.
        body = shortcut_token(self.fc_tokens, self.population, await request.body())
        return JSONResponse(body)

    def routes(self) -> list[BaseRoute]:
        renders: dict[str, Render] = {
            "revenu_solidarite_active": lambda r, p: _status(p.rights.rsa, "avec_majoration"),
            "prime_activite": lambda r, p: _status(p.rights.ppa, "avec_majoration"),
            "complementaire_sante_solidaire": lambda r, p: _status(
                p.rights.css, "avec_participation"
            ),
            "allocation_adulte_handicape": lambda r, p: _status(p.rights.aah, None),
            "allocation_soutien_familial": lambda r, p: _status(p.rights.asf, None),
            "quotient_familial": self.quotient,
        }
        routes: list[BaseRoute] = []
        for name, render in renders.items():
            routes.append(
                Route(f"/v3/dss/{name}/identite", self._dss(render, False), methods=["GET"])
            )
            routes.append(
                Route(f"/v3/dss/{name}/france_connect", self._dss(render, True), methods=["GET"])
            )
        routes += [
            Route("/v3/mesri/statut_etudiant/identite", self._student(False), methods=["GET"]),
            Route("/v3/mesri/statut_etudiant/france_connect", self._student(True), methods=["GET"]),
            Route("/v3/cnous/etudiant_boursier/identite", self._grant(False), methods=["GET"]),
            Route("/v3/cnous/etudiant_boursier/france_connect", self._grant(True), methods=["GET"]),
            Route(
                "/v3/france_travail/statut/identifiant", self._seeker(self.statut), methods=["GET"]
            ),
            Route(
                "/v3/france_travail/indemnites/identifiant",
                self._seeker(self.indemnites),
                methods=["GET"],
            ),
            Route(
                "/_sandbox/france_connect/tokens",
                loopback_only(self.issue_fc_token),
                methods=["POST"],
            ),
        ]
        return routes


def build_app(setup: AgencySetup, fc_tokens: FranceConnectTokens | None = None) -> Starlette:
    service = ApiParticulier(setup, fc_tokens or FranceConnectTokens())
    app = service.agency.app(service.routes(), openapi=False)
    app.state.agency = service.agency
    app.state.service = service
    return app
