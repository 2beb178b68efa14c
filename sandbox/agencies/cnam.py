"""CNAM: health-insurance fund and complémentaire santé solidaire with its renewal date.

The CSS can also be renewed (``POST /v1/complementaire-sante-solidaire/renouvellements``)
and a renewal reverted (``DELETE …/renouvellements/{id}``). The population is immutable, so
renewals live in an in-memory overlay that the identity answer reads: a renewal moves the
renewal date a year on, its revert brings the former date back.

The free CSS can be attributed to a person who has none (``POST …/attributions``, for a new
RSA recipient: the law deems them to meet its conditions) and the attribution withdrawn
(``DELETE …/attributions/{id}``); attributions live in a second overlay, read alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.agency import Agency, AgencyInfo, AgencySetup, oauth_agency
from sandbox.gazetteer import COMMUNE_BY_COG
from sandbox.months import add_years
from sandbox.person import Person
from sandbox.population import Population
from sandbox.protocol import (
    JSONResponse,
    ProtocolError,
    check_recipient,
    envelope,
    not_found,
    parse_pivot,
    unprocessable,
)

INFO = AgencyInfo("cnam", "CNAM", "53", "Aucun assuré ne correspond à cette personne.")
RENEWALS = "/v1/complementaire-sante-solidaire/renouvellements"
ATTRIBUTIONS = "/v1/complementaire-sante-solidaire/attributions"
MAX_KEY = 200


@dataclass(frozen=True)
class Renewal:
    id: str
    person: int  # the population index
    previous_end: date
    start: date
    end: date
    with_participation: bool
    fingerprint: bytes  # the request it answers, to refuse a key reused for another one

    def body(self) -> dict[str, object]:
        return {
            "id": self.id,
            "date_debut": self.start.isoformat(),
            "date_fin": self.end.isoformat(),
            "avec_participation": self.with_participation,
        }


class Renewals:
    """The overlay: per person, the stack of renewals in force (the last one counts)."""

    def __init__(self) -> None:
        self.by_id: dict[str, Renewal] = {}
        self.by_key: dict[str, Renewal] = {}
        self.active: dict[int, list[Renewal]] = {}

    def renewal_date(self, person: Person) -> date | None:
        stack = self.active.get(person.index)
        if stack:
            return stack[-1].end
        css = person.rights.css
        return None if css is None else css.renewal

    def add(self, renewal: Renewal, key: str | None) -> None:
        self.by_id[renewal.id] = renewal
        if key is not None:
            self.by_key[key] = renewal
        self.active.setdefault(renewal.person, []).append(renewal)

    def revert(self, renewal: Renewal) -> bool:
        """Take ``renewal`` out of force; False when a later renewal rests on it."""
        stack = self.active.get(renewal.person, [])
        if renewal not in stack:
            return True  # already reverted: a repeated DELETE changes nothing
        if stack[-1] != renewal:
            return False
        stack.pop()
        return True


@dataclass(frozen=True)
class Attribution:
    id: str
    person: int  # the population index
    start: date
    end: date
    fingerprint: bytes  # the request it answers, to refuse a key reused for another one

    def body(self) -> dict[str, object]:
        return {
            "id": self.id,
            "date_debut": self.start.isoformat(),
            "date_fin": self.end.isoformat(),
            "avec_participation": False,
        }


class Attributions:
    """The overlay of free CSS attributed: per person, the one in force."""

    def __init__(self) -> None:
        self.by_id: dict[str, Attribution] = {}
        self.by_key: dict[str, Attribution] = {}
        self.active: dict[int, Attribution] = {}


def renderer(
    population: Population, renewals: Renewals, attributions: Attributions | None = None
) -> Callable[[Request, Person], object]:
    def render(request: Request, person: Person) -> object:
        commune = COMMUNE_BY_COG[population.household_of(person).address.commune]
        css = person.rights.css
        renewal = renewals.renewal_date(person)
        granted = None if attributions is None else attributions.active.get(person.index)
        if css is None and granted is not None:
            status: dict[str, object] = {
                "est_beneficiaire": True,
                "avec_participation": False,
                "date_debut_droit": granted.start.isoformat(),
                "date_renouvellement": granted.end.isoformat(),
            }
        else:
            status = {
                "est_beneficiaire": css is not None,
                "avec_participation": None if css is None else bool(css.with_increase),
                "date_debut_droit": None if css is None else css.since.isoformat(),
                "date_renouvellement": None if renewal is None else renewal.isoformat(),
            }
        return {
            "identite": person.identity.echo(),
            "organisme": {
                "code": f"{commune.department}1"[:3],
                "libelle": f"CPAM {commune.department_name}",
            },
            "css": status,
        }

    return render


def _params(body: dict[str, object]) -> QueryParams:
    """The JSON body's pivot identity as the query parameters the identity answer takes."""
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str | int) and not isinstance(item, bool):
                pairs.append((name, str(item)))
    return QueryParams(pairs)


def _refused(code: str, detail: str, parameter: str | None = None) -> ProtocolError:
    return ProtocolError(
        422, code, "Entité non traitable", detail, parameter, provider=INFO.provider
    )


def find_person(agency: Agency, params: QueryParams) -> Person:
    """The one person a write request's pivot identity names; else the agency's 404."""
    population = agency.population
    check_recipient(params)
    query = parse_pivot(params, population.reference_date)
    found = population.find(query.nom_naissance, query.prenoms, query.sexe, query.birth)
    if len(found) != 1:
        raise agency.not_found()
    return found[0]


class RenewalDesk:
    def __init__(self, agency: Agency, renewals: Renewals) -> None:
        self.agency = agency
        self.renewals = renewals

    def _person(self, params: QueryParams) -> Person:
        return find_person(self.agency, params)

    async def create(self, request: Request) -> Response:
        try:
            self.agency.auth(request)
            early = await self.agency.faults.before(request)
            if early is not None:
                return early
            raw = await request.body()
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                raise unprocessable("Le corps de la requête doit être un objet JSON")
            key = request.headers.get("idempotency-key")
            if key is not None and not 1 <= len(key) <= MAX_KEY:
                raise _refused(
                    "53013", "L'en-tête Idempotency-Key est mal formé", "Idempotency-Key"
                )
            fingerprint = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
            if key is not None and key in self.renewals.by_key:
                known = self.renewals.by_key[key]
                if known.fingerprint != fingerprint:
                    raise _refused(
                        "53012",
                        "Cette clé d'idempotence a déjà servi pour une autre demande",
                        "Idempotency-Key",
                    )
                return JSONResponse(envelope(known.body(), self.agency.population.reference_date))
            person = self._person(_params(body))
            return self._renew(person, body.get("date_fin_actuelle"), key, fingerprint)
        except ProtocolError as exc:
            return exc.response()

    def _renew(self, person: Person, end: object, key: str | None, fingerprint: bytes) -> Response:
        try:
            current_end = date.fromisoformat(end) if isinstance(end, str) else None
        except ValueError:
            current_end = None
        if current_end is None:
            raise unprocessable(
                "Le paramètre date_fin_actuelle doit être une date AAAA-MM-JJ", "date_fin_actuelle"
            )
        css = person.rights.css
        if css is None:
            raise _refused("53010", "Cette personne ne bénéficie pas de la complémentaire santé")
        if self.renewals.renewal_date(person) != current_end:
            raise _refused(
                "53011",
                "La date de fin indiquée n'est pas celle du droit en cours",
                "date_fin_actuelle",
            )
        renewal = Renewal(
            id=uuid.uuid4().hex,
            person=person.index,
            previous_end=current_end,
            start=current_end,
            end=add_years(current_end, 1),
            with_participation=bool(css.with_increase),
            fingerprint=fingerprint,
        )
        self.renewals.add(renewal, key)
        answer = envelope(renewal.body(), self.agency.population.reference_date)
        return JSONResponse(answer, status_code=201)

    async def delete(self, request: Request) -> Response:
        try:
            self.agency.auth(request)
            early = await self.agency.faults.before(request)
            if early is not None:
                return early
            renewal = self.renewals.by_id.get(request.path_params["id"])
            if renewal is None:
                raise not_found("53004", "Aucun renouvellement ne porte cet identifiant", "CNAM")
            if not self.renewals.revert(renewal):
                raise ProtocolError(
                    409,
                    "53014",
                    "Conflit",
                    "Un renouvellement ultérieur repose sur celui-ci : annulez-le d'abord",
                    provider=INFO.provider,
                )
            return Response(status_code=204)
        except ProtocolError as exc:
            return exc.response()


class AttributionDesk:
    """``POST …/attributions``: the free CSS for a person who has none, for a year from
    ``date_debut``; idempotent by key like a renewal. ``DELETE …/attributions/{id}``."""

    def __init__(self, agency: Agency, attributions: Attributions) -> None:
        self.agency = agency
        self.attributions = attributions

    async def create(self, request: Request) -> Response:
        try:
            self.agency.auth(request)
            early = await self.agency.faults.before(request)
            if early is not None:
                return early
            try:
                body = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                raise unprocessable("Le corps de la requête doit être un objet JSON")
            key = request.headers.get("idempotency-key")
            if key is not None and not 1 <= len(key) <= MAX_KEY:
                raise _refused(
                    "53013", "L'en-tête Idempotency-Key est mal formé", "Idempotency-Key"
                )
            fingerprint = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
            if key is not None and key in self.attributions.by_key:
                known = self.attributions.by_key[key]
                if known.fingerprint != fingerprint:
                    raise _refused(
                        "53012",
                        "Cette clé d'idempotence a déjà servi pour une autre demande",
                        "Idempotency-Key",
                    )
                reference = self.agency.population.reference_date
                return JSONResponse(envelope(known.body(), reference))
            person = find_person(self.agency, _params(body))
            return self._attribute(person, body.get("date_debut"), key, fingerprint)
        except ProtocolError as exc:
            return exc.response()

    def _attribute(
        self, person: Person, start: object, key: str | None, fingerprint: bytes
    ) -> Response:
        try:
            day = date.fromisoformat(start) if isinstance(start, str) else None
        except ValueError:
            day = None
        if day is None:
            raise unprocessable(
                "Le paramètre date_debut doit être une date AAAA-MM-JJ", "date_debut"
            )
        if person.rights.css is not None or person.index in self.attributions.active:
            raise _refused("53015", "Cette personne bénéficie déjà de la complémentaire santé")
        if person.date_deces is not None:
            raise _refused("53016", "Cette personne est décédée")
        attribution = Attribution(
            id=uuid.uuid4().hex,
            person=person.index,
            start=day,
            end=add_years(day, 1),
            fingerprint=fingerprint,
        )
        self.attributions.by_id[attribution.id] = attribution
        if key is not None:
            self.attributions.by_key[key] = attribution
        self.attributions.active[person.index] = attribution
        answer = envelope(attribution.body(), self.agency.population.reference_date)
        return JSONResponse(answer, status_code=201)

    async def delete(self, request: Request) -> Response:
        try:
            self.agency.auth(request)
            early = await self.agency.faults.before(request)
            if early is not None:
                return early
            attribution = self.attributions.by_id.get(request.path_params["id"])
            if attribution is None:
                raise not_found("53005", "Aucune attribution ne porte cet identifiant", "CNAM")
            # A repeated DELETE changes nothing.
            if self.attributions.active.get(attribution.person) == attribution:
                del self.attributions.active[attribution.person]
            return Response(status_code=204)
        except ProtocolError as exc:
            return exc.response()


def build_app(setup: AgencySetup) -> Starlette:
    agency, routes = oauth_agency(INFO, setup)
    renewals = Renewals()
    attributions = Attributions()
    render = renderer(setup.population, renewals, attributions)
    desk = RenewalDesk(agency, renewals)
    grants = AttributionDesk(agency, attributions)

    async def assurance(request: Request) -> Response:
        return await agency.answer(request, agency.resolve_pivot, render)

    routes.append(Route("/v1/assurance-maladie/identite", assurance, methods=["GET"]))
    routes.append(Route(RENEWALS, desk.create, methods=["POST"]))
    routes.append(Route(RENEWALS + "/{id}", desk.delete, methods=["DELETE"]))
    routes.append(Route(ATTRIBUTIONS, grants.create, methods=["POST"]))
    routes.append(Route(ATTRIBUTIONS + "/{id}", grants.delete, methods=["DELETE"]))
    app = agency.app(routes)
    app.state.agency = agency
    app.state.css_renewals = renewals
    app.state.css_attributions = attributions
    return app
