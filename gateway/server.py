"""Starting the gateway process: plain (``unefois serve``) or embedded with the sandbox."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from eligibility import EligibilityService
from gateway.app import Clock, build_app, utc_now
from gateway.client_store import DEMO_CLIENTS, demo_credentials
from gateway.clients import DEMO_CLIENT_ID
from gateway.ds_sandbox import SandboxDs, is_sandbox, prepare_sandbox
from gateway.errors import ConfigurationError
from gateway.observability import configure_logging
from runtime import settings as settings_module
from runtime.errors import RuntimeSetupError
from runtime.settings import Settings
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)


def tune_gc() -> None:
    """Fewer, cheaper collections for a long-lived server.

    What exists once the application is built (the schema, the policy tables, the modules)
    lives as long as the process: frozen, the collector stops walking it. A request makes
    thousands of short-lived objects; a larger first generation collects them in batches.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)


GC_GEN0_THRESHOLD = 20_000


def uvicorn_config(app: ASGIApp | str, settings: Settings, **more: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
        **more,
    )


def server_for(app: ASGIApp, settings: Settings) -> uvicorn.Server:
    return uvicorn.Server(uvicorn_config(app, settings))


class StartupGuard:
    """The application, with what stops its lifespan from starting kept for the caller.

    A setup error (a missing or corrupt key file, a database that cannot be opened) is the
    operator's to fix: the caller reports it in one line instead of uvicorn logging a
    traceback. Any other error goes through unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.error: ConfigurationError | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "lifespan.startup.failed":
                held.append(message)  # sent once the cause is known
                return
            started = started or message["type"] == "lifespan.startup.complete"
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except BaseException as exc:
            error = None if started else setup_error(exc)
            if error is None:
                for message in held:
                    await send(message)
                raise
            self.error = error
            await send({"type": "lifespan.startup.failed", "message": ""})


def setup_error(exc: BaseException) -> ConfigurationError | None:
    """What the operator must fix, in one line; ``None`` for an error of the program."""
    if isinstance(exc, ConfigurationError):
        return exc
    if isinstance(exc, RuntimeSetupError):
        return ConfigurationError(exc.message)
    if isinstance(exc, StoreUnavailable):
        return ConfigurationError(f"UNEFOIS_DATABASE_URL: {exc}")
    if isinstance(exc, OSError) and exc.filename:
        return ConfigurationError(f"{exc.filename}: {exc.strerror or exc.__class__.__name__}")
    return None


def prepare_data_dir(data_dir: Path) -> None:
    """The data folder exists and this process can write in it: signing keys, the pseudonym
    and audit keys and the SQLite database are made there at first start."""
    where = f"UNEFOIS_DATA_DIR ({data_dir})"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot be created ({exc.strerror})") from None
    try:
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".write-probe-")
    except OSError as exc:
        raise ConfigurationError(f"{where}: not writable ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def serve(
    settings: Settings, announce: Callable[[], None] | None, *, clock: Clock = utc_now
) -> None:
    """Serve until stopped (SIGINT, SIGTERM).

    On an empty data folder the gateway makes what it needs (signing keys, pseudonym and
    audit keys, the database) and, without a clients file, starts with no client. What it
    cannot use raises :class:`ConfigurationError` naming the setting or the file.
    """
    configure_logging(settings.log_level)
    prepare_data_dir(settings.data_dir)
    if settings.workers > 1 and announce is None:
        serve_workers(settings)
        return
    app = StartupGuard(build_app(settings, clock=clock))
    server = server_for(app, settings)
    tune_gc()
    if announce is not None:
        original = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original(sockets)
            if server.started:
                announce()

        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()  # a failed start ends in SystemExit, the cause logged
    except SystemExit:
        if app.error is None:
            raise
    if app.error is not None:
        raise app.error


WORKER_APP = "gateway.server:worker_app"
# Seconds a worker may leave the supervisor's ping unanswered before it is replaced: a worker
# imports the whole application before it answers, which takes seconds on a busy machine.
WORKER_HEALTHCHECK = 60


def worker_app() -> ASGIApp:
    """One worker process of ``UNEFOIS_WORKERS``: settings read again from the environment
    (the parent's), its own application and :class:`runtime.Services` (engine, connectors,
    audit writer, rules pool), opened by the lifespan."""
    settings = settings_module.load()
    configure_logging(settings.log_level)
    app = build_app(settings)
    tune_gc()
    return app


async def _prepare_once(settings: Settings) -> None:
    app = build_app(settings, eligibility=EligibilityService(workers=1))  # pool never started
    try:
        async with app.router.lifespan_context(app):
            pass
    except Exception as exc:
        error = setup_error(exc)
        if error is None:
            raise
        raise error from None


def serve_workers(settings: Settings) -> None:
    """``settings.workers`` processes accepting on one socket, bound here; a worker that dies
    is replaced. The parent opens the services once before (what a first start makes —
    signing keys, audit key, pseudonym secret, migrations — is made once, and an unusable
    setting is reported in one line); each worker then opens its own. The audit chain stays
    one: every process appends under the head row's lock on PostgreSQL."""
    asyncio.run(_prepare_once(settings))
    config = uvicorn_config(
        WORKER_APP,
        settings,
        factory=True,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK,
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise ConfigurationError("UNEFOIS_WORKERS: a worker process could not start (see its log)")


def wait_for_upstreams(settings: Settings, timeout: float = 60.0) -> None:
    """Until every sandbox server the gateway calls accepts connections: the agencies, and
    démarches-simplifiées when it is the sandbox's."""
    deadline = time.monotonic() + timeout
    servers = [(u.name, u.url) for u in settings.upstreams.values()]
    if is_sandbox(settings):
        servers.append(("démarches-simplifiées", settings.ds_url))
    for name, url in servers:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        while True:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the sandbox agency {name} did not start") from None
                time.sleep(0.2)


def example_person(settings: Settings) -> dict[str, object] | None:
    url = settings.upstreams["civil_registry"].url + "/_sandbox/persons?limit=50"
    try:
        with urlopen(url, timeout=5) as answer:  # noqa: S310 (a configured local http URL)
            persons = json.loads(answer.read())
    except (OSError, ValueError):
        return None
    items = persons.get("data") if isinstance(persons, dict) else None
    if not isinstance(items, list):
        return None
    # A single adult the CAF knows shows most of the view.
    for item in items:
        if item.get("household_kind") == "single" and not item.get("unknown_to_caf"):
            return dict(item["personne"])
    return dict(items[0]["personne"]) if items else None


def graphql_identity(person: Mapping[str, Any]) -> dict[str, Any]:
    """A pivot identity in API Particulier's parameter names → the GraphQL identity input."""
    given = person.get("prenoms") or []
    ident: dict[str, Any] = {
        "birthName": person.get("nomNaissance"),
        "givenNames": given,
        "birthDate": "{:04d}-{:02d}-{:02d}".format(
            int(str(person.get("anneeDateNaissance"))),
            int(str(person.get("moisDateNaissance"))),
            int(str(person.get("jourDateNaissance"))),
        ),
        "sex": person.get("sexeEtatCivil"),
        "birthCountry": person.get("codeCogInseePaysNaissance"),
    }
    if person.get("codeCogInseeCommuneNaissance"):
        ident["birthPlace"] = person.get("codeCogInseeCommuneNaissance")
    return ident


EXAMPLE_QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
    " identity { birthName givenNames birthDate provenance { agency asOf retrievedAt cached } }"
    " benefits { rsa { receiving since provenance { agency source } } }"
    " resources(months: 3) { months { month netSocial } missingMonths provenance { agency } }"
    " household { familyQuotient claimants { givenNames } provenance { agency } } handle } }"
)


DEMO_ROLES = {
    "demo-agency-app": "agency app: person view, eligibility, prefill",
    "demo-auditor": "auditor: the access log (auditLog, auditStats)",
    "demo-form-builder": "form builder: prefill for a citizen who consented",
}


def ds_lines(ds: SandboxDs) -> list[str]:
    """Where démarches-simplifiées is and what the start made ready there."""
    lines = [
        f"  Démarches:  {ds.url}/   (sandbox démarches-simplifiées; the offers' links lead to",
        "              dossiers prefilled there, submitted ones come back through its webhook)",
    ]
    if ds.procedures:
        lines.append("    procedures: " + ", ".join(f"{p.number} {p.path}" for p in ds.procedures))
    lines += [f"    not ready: {problem}" for problem in ds.problems]
    return lines


def banner(
    settings: Settings,
    credentials: Mapping[str, str],
    person: dict[str, object] | None,
    month: str,
    ds: SandboxDs | None = None,
) -> str:
    base = settings.public_url
    secret = credentials[DEMO_CLIENT_ID]
    lines = [
        "",
        "Unefois is running (embedded default: local sandbox agencies).",
        f"  Home:       {base}/",
        f"  Citizens:   {base}/mon-espace/   (sandbox FranceConnect: click a listed person)",
        f"  Auditors:   {base}/console/   (sandbox agent sign-in: click a listed agent)",
        f"  GraphiQL:   {base}/graphql   (add the header Authorization: Bearer <token>)",
        f"  Health:     {base}/healthz   {base}/readyz   {base}/metrics",
        *(ds_lines(ds) if ds is not None else []),
        "  Clients (secrets new at every start; add yours with: unefois clients add):",
        *(
            f"    {demo.id:<18} {credentials[demo.id]}   {DEMO_ROLES.get(demo.id, '')}".rstrip()
            for demo in DEMO_CLIENTS
        ),
        "",
        "Get a token and query one sandbox person:",
        "",
        f"TOKEN=$(curl -s -u '{DEMO_CLIENT_ID}:{secret}' -d grant_type=client_credentials "
        f"{base}/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)"
        '["access_token"])\')',
    ]
    if person is not None:
        body = {
            "query": EXAMPLE_QUERY,
            "variables": {
                "ref": {"identity": graphql_identity(person)},
                "ctx": {
                    "purpose": "rsa_instruction",
                    "recipient": "13002526500013",
                    "object": "dossier-42",
                },
            },
        }
        lines += [
            f'curl -s {base}/graphql -H "Authorization: Bearer $TOKEN" '
            f"-H 'Content-Type: application/json' -d '{json.dumps(body, ensure_ascii=False)}'",
        ]
    sinks = settings.sms_url.removesuffix("/v1/sms")
    lines += [
        "",
        "Proactivity (in another shell): find the RSA non-claimants among the sandbox's job",
        "losses, tell them, and read what they received:",
        "",
        f"  .venv/bin/unefois campaign run --benefit rsa --month {month} --from-events "
        "--recipient 13002526500013",
        "  .venv/bin/unefois campaign deliver",
        f"  curl -s {sinks}/_sandbox/mails    # e-mails (the SMTP sink)",
        f"  curl -s {sinks}/_sandbox/sms      # text messages (the SMS sink)",
        "",
    ]
    return "\n".join(lines)


def run_embedded(settings: Settings, sandbox_month: str) -> int:
    credentials = asyncio.run(demo_credentials(settings, utc_now()))
    wait_for_upstreams(settings)
    person = example_person(settings)
    # The sandbox DS's procedures registered and their webhooks pointed here, at every start
    # (never on a real DS: UNEFOIS_DS_URL elsewhere leaves it to `unefois procedure`).
    ds = asyncio.run(prepare_sandbox(settings, utc_now)) if is_sandbox(settings) else None

    def announce() -> None:
        text = banner(settings, credentials, person, sandbox_month, ds)
        print(text, file=sys.stdout, flush=True)

    serve(settings, announce)
    return 0
