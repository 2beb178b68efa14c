"""Process wiring: settings → connectors → exchange → schema → Starlette application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from connectors import Connectors, RedisCache
from connectors.redis_health import redis_client
from eligibility import EligibilityService
from exchange.auditing import AuditSink
from gateway.callers import PersonTokenCheck, authenticator
from gateway.citizen import citizen_space
from gateway.client_store import ClientSource, LiveClients, StaticClients
from gateway.clients import ClientRegistry
from gateway.console import console_routes
from gateway.documents import TrustedDocuments
from gateway.dossiers.start import DossierStart, dossier_routes
from gateway.dossiers.webhook import DossierWebhook, webhook_routes
from gateway.formlink import FormLinkPage, formlink_routes
from gateway.graphql_http import GraphQLEndpoint
from gateway.keys import SigningKeys, for_settings
from gateway.limits import BodyLimitMiddleware
from gateway.oauth import build_authorization_server, oauth_routes
from gateway.observability import (
    Metrics,
    RequestContextMiddleware,
    metrics_endpoint,
    note_upstream,
)
from gateway.optout import OptOutPages, optout_routes
from gateway.persons import build_person_verifier, person_http_client
from gateway.ratelimit import MemoryRateLimiter, Rate, RateLimiter, RedisRateLimiter
from gateway.state import services_of
from gateway.tokens import build_token_verifier
from gateway.web import errors as page_errors
from gateway.web.render import STATIC_PATH, render
from gateway.web.security import PageSecurityMiddleware
from runtime import Parts, Services
from runtime.production import refuse_demo_clients
from runtime.readiness import database_checks, package_revisions
from runtime.settings import Settings
from schema import SchemaLimits, build_schema

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def keys_check(signing: SigningKeys) -> str:
    """``loaded`` when the token signing keys can sign (a followed key file is re-read)."""
    try:
        signing.refresh()
        return "loaded" if signing.current.kid and signing.verification_keys() else "unusable"
    except Exception as exc:  # a set that cannot be read is not ready
        log.warning("readiness: signing keys unusable", extra={"reason": type(exc).__name__})
        return "unusable"


def rate_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        client = redis_client(settings.redis_url, settings.redis_timeout)
        return RedisRateLimiter(client, settings.redis_prefix)
    return MemoryRateLimiter()


def redis_users(bundle: Connectors, limiter: RateLimiter) -> list[RedisCache | RedisRateLimiter]:
    """The parts of the process that call Redis, for metrics and readiness."""
    cache = bundle.cache
    users: list[RedisCache | RedisRateLimiter] = []
    if isinstance(cache, RedisCache):
        users.append(cache)
    if isinstance(limiter, RedisRateLimiter):
        users.append(limiter)
    return users


def build_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    clients: ClientRegistry | None = None,
    keys: SigningKeys | None = None,
    connectors: Connectors | None = None,
    person_tokens: PersonTokenCheck | None = None,
    audit_sink: AuditSink | None = None,
    eligibility: EligibilityService | None = None,
) -> Starlette:
    """The gateway application: the HTTP edge over :class:`runtime.Services`, which its
    lifespan opens. Parts may be given (tests); the rest come from settings."""
    metrics = Metrics()
    # The registry in the database, read at each request; a registry given (tests) is fixed.
    registry: ClientSource = (
        StaticClients(clients)
        if clients is not None
        else LiveClients(settings.clients_path, required=settings.clients_file is not None)
    )
    signing = keys if keys is not None else for_settings(settings)
    jwks_http = httpx.AsyncClient(timeout=5.0) if settings.trusted_jwks_url else None
    person_http: httpx.AsyncClient | None = None
    if person_tokens is None:
        person_http = person_http_client(settings)
        person_tokens = build_person_verifier(settings, person_http, clock)
    verifier = build_token_verifier(settings, signing, clock, jwks_http)
    console_http = httpx.AsyncClient(timeout=10.0)  # the console's identity provider

    def observe(source: str, upstream: str, outcome: str, seconds: float) -> None:
        metrics.observe_upstream(upstream, outcome, seconds)
        note_upstream(seconds)

    parts = Parts(
        connectors=connectors,
        person_tokens=person_tokens,
        observe=observe,
        audit_sink=audit_sink,
        eligibility=eligibility,
        rules=True,
    )
    schema = build_schema(
        SchemaLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=settings.introspection,
        )
    )
    limiter = rate_limiter(settings)
    graphql = GraphQLEndpoint(
        schema,
        authenticator(verifier, registry, person_tokens, settings.token_issuer),
        clock,
        ide=settings.introspection,
        limiter=limiter,
        rate=Rate(settings.rate_per_second, settings.rate_burst),
        observe=metrics.observe_graphql,
        documents=TrustedDocuments(settings.trusted_documents),
    )
    auth_server = build_authorization_server(settings, registry, signing, clock)
    citizen = citizen_space(settings, person_tokens, clock)

    async def home(request: Request) -> Response:
        return render(request, "home.html")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    revisions = package_revisions()

    async def readyz(request: Request) -> Response:
        """Ready: the database answers, its migrations are at this code's head, the signing
        keys are loaded. Agencies' circuits and Redis are shown, never a reason to fail: they
        are shared by every replica, so failing on them would take every replica out at once,
        while a replica without them still answers (typed errors, no shared cache)."""
        services = services_of(request)
        checks = await database_checks(services, revisions)
        checks["keys"] = keys_check(signing)
        passed = {
            "database": checks["database"] == "reachable",
            "migrations": not checks["migrations"].startswith("behind"),
            "keys": checks["keys"] == "loaded",
        }
        for check, ok in passed.items():
            metrics.set_ready_check(check, ok)
        failed = [check for check, ok in passed.items() if not ok]
        body: dict[str, object] = {"status": "not_ready" if failed else "ready", **checks}
        if failed:
            body["failed"] = failed
        body["upstreams"] = services.connectors.circuits()
        redis_parts = redis_users(services.connectors, limiter)
        if redis_parts:
            healthy = [await part.check() for part in redis_parts]
            body["redis"] = "up" if all(healthy) else "degraded"
        return JSONResponse(body, status_code=503 if failed else 200)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with Services.open(settings, clock, parts) as services:
                await refuse_demo_clients(settings, services.clients)
                for part in redis_users(services.connectors, limiter):
                    metrics.watch_redis(part.health)
                metrics.watch_circuits(services.connectors.circuits)
                app.state.services = services
                try:
                    yield
                finally:
                    del app.state.services
        finally:
            await limiter.aclose()
            await citizen.aclose()
            for http in (jwks_http, person_http, console_http):
                if http is not None:
                    await http.aclose()

    routes = [
        Route("/", home, methods=["GET"]),
        Mount(STATIC_PATH, StaticFiles(packages=[("gateway", "web/static")]), name="static"),
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        *oauth_routes(auth_server, limiter),
        *optout_routes(OptOutPages(clock)),
        *formlink_routes(FormLinkPage(settings.public_url, clock)),
        *dossier_routes(DossierStart(citizen.signin, registry, clock)),
        *webhook_routes(DossierWebhook(registry, clock)),
        *console_routes(settings, console_http, clock),
        *citizen.routes(),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                RequestContextMiddleware, metrics=metrics, server_timing=settings.server_timing
            ),
            Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
            Middleware(
                PageSecurityMiddleware,
                # Signing out is redirected to the identity providers; a prefilled dossier's
                # form to démarches-simplifiées.
                form_origins=(
                    settings.franceconnect_issuer,
                    settings.agent_connect_issuer,
                    settings.ds_url,
                ),
            ),
        ],
        lifespan=lifespan,
        # The pages' errors in French and in their layout; machines' endpoints keep theirs.
        exception_handlers=page_errors.handlers(),
    )
