"""The composition root: every service of the product, built once from the settings.

The application's lifespan and every command open the same :class:`Services`, so the wiring
exists once: one engine per database (the store and the audit log share it), one connector
bundle, one audit log writer. What an HTTP edge adds (who is calling, how a citizen's token
is opened, metrics) comes in :class:`Parts`, as do the parts tests replace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx

from audit import AuditDatabase, AuditLog, AuditReader
from connectors import ConnectorConfig, Connectors, UpstreamConfig
from connectors.demarches import Demarches
from connectors.redis_health import with_timeouts
from database import open_engine
from eligibility import EligibilityService
from exchange import FIELDS, Exchange, PolicyDecider, Pseudonyms
from exchange.auditing import Auditor, AuditSink
from exchange.consents import Consents
from exchange.declarations import Declarations
from exchange.fetch import CallObserver
from exchange.oversight import Oversight
from exchange.reference import PersonTokens
from policies import Catalogue, PolicyError, load_catalogue
from runtime.audit_wiring import open_audit_log, witness_path
from runtime.errors import ConfigurationError
from runtime.secret import pseudonym_secret
from runtime.settings import Settings
from store import (
    ClientStore,
    ConsentStore,
    CursorStore,
    Database,
    DossierStore,
    OfferStore,
    OutboxStore,
    ProcedureStore,
    RenewalStore,
    SessionStore,
    SubmissionStore,
    database_url_for,
    migrate,
)

Clock = Callable[[], datetime]


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
        redis_url=with_timeouts(settings.redis_url, settings.redis_timeout)
        if settings.redis_url
        else None,
        redis_prefix=settings.redis_prefix + "cache:",
        transport=settings.upstream_transport,
    )


def client_policy_name(settings: Settings, client_id: str) -> str | None:
    """The organisation the policy catalogue names for ``client_id`` (``unefois clients``),
    ``None`` when the catalogue has no policy for it."""
    try:
        catalogue = load_catalogue(settings.policies_dir, known_fields=frozenset(FIELDS))
    except PolicyError as exc:
        raise ConfigurationError(f"UNEFOIS_POLICIES_DIR: {exc}") from None
    policy = catalogue.clients.get(client_id)
    return None if policy is None else policy.name


def ds_webhook_secret(settings: Settings, pseudonym_secret: bytes) -> str:
    """The DS webhook's secret path segment: the configured one, else derived from the
    pseudonym secret, which every replica shares (the data directory's in development)."""
    if settings.ds_webhook_secret:
        return settings.ds_webhook_secret
    digest = hmac.new(pseudonym_secret, b"unefois ds webhook", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class Parts:
    """What the caller brings instead of the settings' defaults.

    ``person_tokens``: how a FranceConnect token in a request is opened (the HTTP edge's);
    without it such a request is refused. ``eligibility``: a started pool the caller owns;
    without it, ``rules=True`` starts one of the settings' size. ``audit_sink``: where the
    exchange's entries go instead of the log (benchmarks measuring the log's cost).
    ``demarches``: a démarches-simplifiées client the caller owns, instead of the settings'.
    """

    connectors: Connectors | None = None
    person_tokens: PersonTokens | None = None
    observe: CallObserver | None = None
    audit_sink: AuditSink | None = None
    eligibility: EligibilityService | None = None
    rules: bool = False
    demarches: Demarches | None = None


@dataclass(frozen=True)
class Services:
    settings: Settings
    catalogue: Catalogue
    pseudonyms: Pseudonyms
    connectors: Connectors
    database: Database
    audit_database: AuditDatabase
    audit_log: AuditLog
    audit_reader: AuditReader
    clients: ClientStore
    consent_store: ConsentStore
    submissions: SubmissionStore
    offers: OfferStore
    outbox: OutboxStore
    cursors: CursorStore
    renewals: RenewalStore
    auditor: Auditor
    exchange: Exchange
    consents: Consents
    oversight: Oversight
    declarations: Declarations
    eligibility: EligibilityService | None
    web_sessions: SessionStore
    # The key the pages sign their CSRF tokens with: derived from the pseudonym secret, which
    # every replica shares, so any replica checks a form another rendered.
    page_key: bytes
    # démarches-simplifiées: the procedures registered for our forms, the dossiers created
    # there, the client of its API (on an HTTP client closed with the services) and the
    # secret path segment of its webhook's address.
    procedures: ProcedureStore
    dossiers: DossierStore
    demarches: Demarches
    ds_webhook_secret: str
    # The key sealing what is kept about a person between two steps of a journey (the
    # identity behind a dossier created on DS, until the person submits it): derived from the
    # pseudonym secret, so that whichever replica DS's webhook reaches opens it.
    seal_key: bytes

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, clock: Clock, parts: Parts | None = None
    ) -> AsyncIterator[Services]:
        """Everything started (database migrated, audit writer running); on exit, closed in
        reverse order, the audit log flushed and checkpointed before its database closes."""
        given = parts or Parts()
        catalogue = load_catalogue(settings.policies_dir, known_fields=frozenset(FIELDS))
        secret = pseudonym_secret(settings.data_dir, settings.pseudonym_secret)
        pseudonyms = Pseudonyms(secret)
        async with AsyncExitStack() as stack:
            bundle = given.connectors or Connectors.from_config(connector_config(settings), clock)
            if given.connectors is None:
                stack.push_async_callback(bundle.aclose)
            engine = open_engine(
                database_url_for(settings.data_dir, settings.database_url),
                schema=settings.database_schema,
                sqlite_sync=settings.audit_sqlite_sync,
            )
            stack.push_async_callback(engine.aclose)
            database = Database(engine)
            await database.ping()
            await migrate(database)
            audit_db, audit_log = await open_audit_log(engine, settings, clock)
            stack.push_async_callback(audit_log.aclose)
            demarches = given.demarches
            if demarches is None:
                ds_http = httpx.AsyncClient(follow_redirects=False)
                stack.push_async_callback(ds_http.aclose)
                demarches = Demarches(
                    settings.ds_url, settings.ds_api_token, ds_http, settings.ds_timeout
                )
            rules = given.eligibility
            if rules is None and given.rules:
                rules = EligibilityService(workers=settings.eligibility_workers)
                await rules.start()
                stack.push_async_callback(rules.aclose)
            auditor = Auditor(given.audit_sink or audit_log, pseudonyms, clock)
            consent_store = ConsentStore(database)
            offers = OfferStore(database)
            decider = PolicyDecider(catalogue, consent_store, pseudonyms)
            submissions = SubmissionStore(database)
            witness = witness_path(settings.data_dir, settings.audit_witness_file)
            reader = AuditReader(audit_db, witness_file=witness)
            yield cls(
                settings=settings,
                catalogue=catalogue,
                pseudonyms=pseudonyms,
                connectors=bundle,
                database=database,
                audit_database=audit_db,
                audit_log=audit_log,
                audit_reader=reader,
                clients=ClientStore(database),
                consent_store=consent_store,
                submissions=submissions,
                offers=offers,
                outbox=OutboxStore(database),
                cursors=CursorStore(database),
                renewals=RenewalStore(database),
                auditor=auditor,
                exchange=Exchange(
                    bundle, decider, pseudonyms, auditor, given.person_tokens, given.observe
                ),
                consents=Consents(consent_store, catalogue, pseudonyms, auditor),
                oversight=Oversight(reader, auditor, catalogue, pseudonyms, clock),
                declarations=Declarations(submissions, auditor, pseudonyms, offers=offers),
                eligibility=rules,
                web_sessions=SessionStore(database),
                page_key=hmac.new(secret, b"unefois pages csrf", hashlib.sha256).digest(),
                procedures=ProcedureStore(database),
                dossiers=DossierStore(database),
                demarches=demarches,
                ds_webhook_secret=ds_webhook_secret(settings, secret),
                seal_key=hmac.new(secret, b"unefois sealed values", hashlib.sha256).digest(),
            )
