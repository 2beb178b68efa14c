"""What every simulated agency shares: the request pipeline, stats, faults, feed, admin.

One data call goes: authenticate → injected faults (latency, 429, 5xx, hang) → validate
and resolve the person → maybe swap for another person (fault) → render → maybe garble the
body (fault) → ``{data, links, meta}``. Agency modules only supply ``resolve`` and ``render``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.admin import admin_routes
from sandbox.events import Event, EventFeed
from sandbox.faults import FaultConfig, FaultInjector
from sandbox.oauth import ClientCredentials, TokenIssuer
from sandbox.person import Person
from sandbox.population import Population
from sandbox.protocol import (
    JSONResponse,
    ProtocolError,
    check_recipient,
    envelope,
    not_found,
    parse_pivot,
)
from sandbox.stats import CountingMiddleware, RequestStats

Auth = Callable[[Request], None]
Resolve = Callable[[Request], Person]
Render = Callable[[Request, Person], object]


@dataclass(frozen=True)
class AgencyInfo:
    name: str  # the key in the runner's URL map, e.g. "gip_mds"
    provider: str  # ``meta.provider`` of errors, e.g. "GIP-MDS"
    code_prefix: str  # two digits prefixing this provider's error codes
    not_found_detail: str


@dataclass(frozen=True)
class AgencySetup:
    """Everything an agency module needs to build its app."""

    population: Population
    events: tuple[Event, ...]
    faults: FaultConfig
    credentials: ClientCredentials
    api_particulier_token: str


class Agency:
    def __init__(
        self,
        info: AgencyInfo,
        population: Population,
        events: tuple[Event, ...],
        faults: FaultConfig,
        auth: Auth,
    ) -> None:
        self.info = info
        self.population = population
        self.auth = auth
        self.stats = RequestStats()
        seed = population.seed ^ zlib.crc32(info.name.encode())
        self.faults = FaultInjector(info.provider, info.code_prefix, faults, seed)
        self.feed = EventFeed(population, events, info.name)

    async def answer(
        self,
        request: Request,
        resolve: Resolve,
        render: Render,
        *,
        auth: Auth | None = None,
        as_of: bool = True,
        swap: Callable[[Person], Person] | None = None,
    ) -> Response:
        try:
            (auth or self.auth)(request)
            early = await self.faults.before(request)
            if early is not None:
                return early
            person = resolve(request)
            if self.faults.wrong_person():
                person = (swap or self.population.other_than)(person)
            data = render(request, person)
        except ProtocolError as exc:
            return exc.response()
        broken = self.faults.malformed()
        if broken is not None:
            return broken
        return JSONResponse(envelope(data, self.population.reference_date if as_of else None))

    def resolve_pivot(self, request: Request) -> Person:
        """The person named by the pivot-identity parameters; 422 or 404 otherwise."""
        params = request.query_params
        check_recipient(params)
        query = parse_pivot(params, self.population.reference_date)
        found = self.population.find(query.nom_naissance, query.prenoms, query.sexe, query.birth)
        if len(found) != 1:
            raise self.not_found()
        return found[0]

    def not_found(self) -> ProtocolError:
        return not_found(
            f"{self.info.code_prefix}003", self.info.not_found_detail, self.info.provider
        )

    async def events(self, request: Request) -> Response:
        try:
            self.auth(request)
            early = await self.faults.before(request)
            if early is not None:
                return early
            return JSONResponse(self.feed.page(request.query_params))
        except ProtocolError as exc:
            return exc.response()

    def app(self, routes: list[BaseRoute], *, openapi: bool = True) -> Starlette:
        extra: list[BaseRoute] = [Route("/events", self.events, methods=["GET"])]
        if openapi:
            document = (
                resources.files("sandbox")
                .joinpath("openapi", f"{self.info.name}.yaml")
                .read_bytes()
            )

            async def serve_openapi(request: Request) -> Response:
                return Response(document, media_type="application/yaml")

            extra.append(Route("/openapi.yaml", serve_openapi, methods=["GET"]))
        middleware = [Middleware(CountingMiddleware, stats=self.stats)]
        all_routes = routes + extra + admin_routes(self.population, self.faults, self.stats)
        return Starlette(routes=all_routes, middleware=middleware)


def oauth_agency(info: AgencyInfo, setup: AgencySetup) -> tuple[Agency, list[BaseRoute]]:
    """An agency behind OAuth2 client credentials, with its token endpoint route."""
    issuer = TokenIssuer(setup.credentials)
    agency = Agency(info, setup.population, setup.events, setup.faults, issuer.check)
    return agency, [Route("/oauth/token", issuer.token_endpoint, methods=["POST"])]
