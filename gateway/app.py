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
from starlette.routing import Route

from connectors import ConnectorConfig, Connectors, RedisCache, UpstreamConfig
from connectors.redis_health import redis_client, with_timeouts
from eligibility import EligibilityService
from exchange import FIELDS, Exchange, PolicyDecider, Pseudonyms
from exchange.auditing import Auditor, AuditSink
from exchange.consents import Consents
from exchange.declarations import Declarations
from exchange.oversight import Oversight
from gateway.audit_log import StartedAudit, audit_origin
from gateway.callers import PersonTokenCheck, authenticator
from gateway.clients import ClientRegistry, load_clients
from gateway.consent_store import StartedConsentStore, StartedSubmissions
from gateway.formlink import FormLinkPage, formlink_routes
from gateway.graphql_http import GraphQLEndpoint, Services
from gateway.keys import SigningKeys, load_or_create
from gateway.limits import BodyLimitMiddleware
from gateway.oauth import build_authorization_server, oauth_routes
from gateway.observability import Metrics, RequestContextMiddleware, metrics_endpoint
from gateway.offers import StartedOffers
from gateway.optout import OptOutPages, optout_routes
from gateway.persons import build_person_verifier, person_http_client
from gateway.ratelimit import MemoryRateLimiter, Rate, RateLimiter, RedisRateLimiter
from gateway.secret import pseudonym_secret
from gateway.settings import Settings
from gateway.tokens import build_token_verifier
from policies import load_catalogue
from schema import SchemaLimits, build_schema
from store import database_url_for

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def connector_config(settings: Settings) -> ConnectorConfig:
    return ConnectorConfig(
        upstreams={
            name: UpstreamConfig(
                name=name,
                url=u.url,
                timeout=u.timeout,
                pool_size=u.pool_size,
                token=u.token,
                client_id=u.client_id,
                client_secret=u.client_secret,
            )
            for name, u in settings.upstreams.items()
        },
        cache_ttl=settings.cache_ttl,
        cache_size=settings.cache_size,
        # The cache's client reads its timeouts from the URL.
        redis_url=with_timeouts(settings.redis_url, settings.redis_timeout)
        if settings.redis_url
        else None,
        redis_prefix=settings.redis_prefix + "cache:",
    )


def rate_limiter(settings: Settings) -> RateLimiter:
    if settings.redis_url:
        client = redis_client(settings.redis_url, settings.redis_timeout)
        return RedisRateLimiter(client, settings.redis_prefix)
    return MemoryRateLimiter()


def redis_users(bundle: Connectors, limiter: RateLimiter) -> list[RedisCache | RedisRateLimiter]:
    """The parts of the process that call Redis, for metrics and readiness."""
    # ``Connectors`` does not expose its cache; reading it here keeps that class unchanged.
    cache = getattr(bundle, "_cache", None)
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
    """The gateway application. Parts may be given (tests); the rest come from settings."""
    metrics = Metrics()
    registry = clients if clients is not None else load_clients(settings.clients_path)
    signing = keys if keys is not None else load_or_create(settings.data_dir, settings.signing_alg)
    bundle = connectors or Connectors.from_config(connector_config(settings), clock)
    catalogue = load_catalogue(settings.policies_dir, known_fields=frozenset(FIELDS))
    pseudonyms = Pseudonyms(pseudonym_secret(settings.data_dir, settings.pseudonym_secret))
    database_url = database_url_for(settings.data_dir, settings.database_url)
    consent_store = StartedConsentStore(database_url, settings.database_schema)
    audit_log = StartedAudit(
        database_url,
        settings.database_schema,
        settings.data_dir,
        audit_origin(settings.public_url),
        clock,
        settings.audit_sqlite_sync,
        witness_file=settings.audit_witness_file,
        witness_url=settings.audit_witness_url,
    )
    offers = StartedOffers(database_url, settings.database_schema)
    # ``audit_sink``: where entries go instead of the log (benchmarks measuring the log's cost).
    auditor = Auditor(audit_sink or audit_log, pseudonyms, clock)
    jwks_http = httpx.AsyncClient(timeout=5.0) if settings.trusted_jwks_url else None
    person_http: httpx.AsyncClient | None = None
    if person_tokens is None:
        person_http = person_http_client(settings)
        person_tokens = build_person_verifier(settings, person_http, clock)
    verifier = build_token_verifier(settings, signing, clock, jwks_http)

    def observe(source: str, upstream: str, outcome: str, seconds: float) -> None:
        metrics.observe_upstream(upstream, outcome, seconds)

    decider = PolicyDecider(catalogue, consent_store, pseudonyms)
    exchange = Exchange(bundle, decider, pseudonyms, auditor, person_tokens, observe)
    consents = Consents(consent_store, catalogue, pseudonyms, auditor)
    oversight = Oversight(audit_log, auditor, catalogue, pseudonyms, clock)
    declarations = Declarations(
        StartedSubmissions(consent_store), auditor, pseudonyms, offers=offers
    )
    # A service given by the caller (tests sharing one warm pool) is theirs to start and stop.
    owns_rules = eligibility is None
    rules = eligibility or EligibilityService(workers=settings.eligibility_workers)
    schema = build_schema(
        SchemaLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=settings.introspection,
        )
    )
    limiter = rate_limiter(settings)
    redis_parts = redis_users(bundle, limiter)
    for part in redis_parts:
        metrics.watch_redis(part.health)
    graphql = GraphQLEndpoint(
        schema,
        Services(exchange, consents, oversight, rules, declarations, catalogue),
        authenticator(verifier, registry, person_tokens, pseudonyms),
        clock,
        ide=settings.introspection,
        limiter=limiter,
        rate=Rate(settings.rate_per_second, settings.rate_burst),
    )
    auth_server = build_authorization_server(settings, registry, signing, clock)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        circuits = bundle.circuits()
        for agency, state in circuits.items():
            metrics.set_circuit(agency, state)  # type: ignore[arg-type]
        ready = all(state != "open" for state in circuits.values())
        body: dict[str, object] = {
            "status": "ready" if ready else "degraded",
            "upstreams": circuits,
        }
        if redis_parts:
            # Shown, never a reason to fail: without Redis a replica still answers (no shared
            # cache, per-replica rate limits); taking every replica out would be an outage.
            healthy = [await part.check() for part in redis_parts]
            body["redis"] = "up" if all(healthy) else "degraded"
        return JSONResponse(body, status_code=200 if ready else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await consent_store.start()
        await audit_log.start()
        await offers.start()  # after the consent store, which migrates the database
        if owns_rules:
            await rules.start()
        try:
            yield
        finally:
            if owns_rules:
                await rules.aclose()
            await offers.aclose()
            await audit_log.aclose()  # flushes what is queued before the database closes
            await consent_store.aclose()
            await bundle.aclose()
            await limiter.aclose()
            for http in (jwks_http, person_http):
                if http is not None:
                    await http.aclose()

    routes = [
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint(metrics), methods=["GET"]),
        *oauth_routes(auth_server, limiter),
        *optout_routes(OptOutPages(offers, clock)),
        *formlink_routes(
            FormLinkPage(offers, settings.form_builder_url, settings.public_url, clock)
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestContextMiddleware, metrics=metrics),
            Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
