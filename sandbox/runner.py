"""Run the simulated agencies and the identity providers in one process, each on its port.

``serve(config)`` is what ``python -m sandbox`` runs; ``start_in_thread(config)`` runs the
same servers on ephemeral ports in a background thread for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from sandbox import (
    agent_connect_pages,
    cases,
    demarches,
    france_connect_pages,
    mail,
    sms,
    witness,
)
from sandbox.agencies import (
    api_particulier,
    civil_registry,
    cnam,
    cnav,
    dgfip,
    gip_mds,
    housing,
)
from sandbox.agency import AgencySetup
from sandbox.agent_connect import AgentConnectConfig
from sandbox.events import build_events
from sandbox.faults import FaultConfig
from sandbox.france_connect import Clock, FranceConnectConfig, FranceConnectTokens
from sandbox.oauth import ClientCredentials
from sandbox.population import DEFAULT_MONTH, DEFAULT_SEED, Population
from sandbox.scenarios import SHIPPED, load_scenarios

SANDBOX_API_PARTICULIER_TOKEN = "sandbox-api-particulier-token"  # noqa: S105 - public sandbox token
AGENCIES: tuple[str, ...] = (
    "api_particulier",
    "gip_mds",
    "dgfip",
    "cnav",
    "cnam",
    "housing",
    "civil_registry",
)
# Every server the sandbox runs: the agencies (data sources with event feeds), then the
# citizens' OpenID Connect provider and the SMS provider's sink, which are no agencies. Ports
# follow this order.
SERVERS: tuple[str, ...] = (*AGENCIES, "france_connect", "sms")
# The SMTP mail sink listens on the next port (an SMTP server, not an HTTP one): 8710.
MAIL = "mail"
# The audit logs' cosigning witness (no agency either) on the one after: 8711.
WITNESS = "witness"
# The civil servants' OpenID Connect provider (ProConnect-style) on the one after: 8712.
AGENT_CONNECT = "agent_connect"
# The démarches-simplifiées sandbox (prefill API, dossier pages, GraphQL API v2): 8713.
DEMARCHES = "demarches"
# A département's RSA case management, a federation subgraph beside the gateway's: 8714.
CASES = "cases"
# Where a gateway's pages are, for the providers' relying parties (comma-separated URLs).
GATEWAY_URLS_ENV = "UNEFOIS_SANDBOX_GATEWAY_URLS"
DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
_BUILDERS: dict[str, Callable[[AgencySetup], Starlette]] = {
    "gip_mds": gip_mds.build_app,
    "dgfip": dgfip.build_app,
    "cnav": cnav.build_app,
    "cnam": cnam.build_app,
    "housing": housing.build_app,
    "civil_registry": civil_registry.build_app,
}


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port_base: int = 8701  # agencies listen on port_base + their rank in SERVERS; 0: ephemeral
    size: int = 10_000
    seed: int = DEFAULT_SEED
    reference_month: str = DEFAULT_MONTH
    faults: Mapping[str, FaultConfig] = field(default_factory=dict)  # agency name or "*"
    api_particulier_token: str = SANDBOX_API_PARTICULIER_TOKEN
    credentials: ClientCredentials = field(default_factory=ClientCredentials)
    france_connect: FranceConnectConfig = field(default_factory=FranceConnectConfig)
    clock: Clock = time.time  # FranceConnect token and code lifetimes; tests pass a fake
    sms_token: str = sms.SANDBOX_SMS_TOKEN  # the bearer token the SMS sink expects
    # Scenario households served after the generated persons (None: none); the shipped file
    # holds the golden eligibility cases, which tests reach through ``?kind=scenario:<id>``.
    scenarios: Path | None = SHIPPED
    agent_connect: AgentConnectConfig = field(default_factory=AgentConnectConfig)
    # Gateways (base URLs) whose pages the providers send browsers back to, besides the
    # default http://127.0.0.1:8000: ``<url>/mon-espace/...`` and ``<url>/console/...``.
    gateway_urls: tuple[str, ...] = ()

    def port(self, agency: str) -> int:
        if self.port_base == 0:
            return 0
        if agency == WITNESS:
            return self.port_base + len(SERVERS) + 1
        if agency == AGENT_CONNECT:
            return self.port_base + len(SERVERS) + 2
        if agency == DEMARCHES:
            return self.port_base + len(SERVERS) + 3
        if agency == CASES:
            return self.port_base + len(SERVERS) + 4
        return self.port_base + (len(SERVERS) if agency == MAIL else SERVERS.index(agency))

    def faults_for(self, agency: str) -> FaultConfig:
        return self.faults.get(agency) or self.faults.get("*") or FaultConfig()

    def population(self) -> Population:
        """The population this configuration describes, scenario persons included."""
        scenarios = load_scenarios(self.scenarios) if self.scenarios is not None else None
        return Population.generate(self.size, self.seed, self.reference_month, scenarios)


def build_apps(
    config: SandboxConfig, population: Population, mails: mail.MailSink | None = None
) -> dict[str, Starlette]:
    events = build_events(population)
    # One registry for both: API Particulier's FranceConnect routes accept the provider's tokens.
    fc_tokens = FranceConnectTokens(config.france_connect.token_ttl, config.clock)

    def particulier(setup: AgencySetup) -> Starlette:
        return api_particulier.build_app(setup, fc_tokens)

    def provider(setup: AgencySetup) -> Starlette:
        france_connect = config.france_connect.with_gateways(config.gateway_urls)
        return france_connect_pages.build_app(setup, fc_tokens, france_connect)

    def sms_sink(setup: AgencySetup) -> Starlette:
        return sms.build_app(config.sms_token, mails=mails)

    builders = {
        **_BUILDERS,
        "api_particulier": particulier,
        "france_connect": provider,
        "sms": sms_sink,
    }
    return {
        name: builders[name](
            AgencySetup(
                population,
                events,
                config.faults_for(name),
                config.credentials,
                config.api_particulier_token,
            )
        )
        for name in SERVERS
    }


class _AgencyServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Several servers share one process: ``serve`` handles signals once for all of them.
        yield


def _servers(config: SandboxConfig, apps: Mapping[str, Starlette]) -> dict[str, _AgencyServer]:
    return {
        name: _AgencyServer(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.port(name),
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        for name, app in apps.items()
    }


def _bound_urls(host: str, servers: Mapping[str, uvicorn.Server]) -> dict[str, str]:
    urls = {}
    for name, server in servers.items():
        port = server.servers[0].sockets[0].getsockname()[1]
        urls[name] = f"http://{host}:{port}"
    return urls


async def _run(
    config: SandboxConfig,
    population: Population,
    on_ready: Callable[[dict[str, str], dict[str, Starlette]], None],
    on_servers: Callable[[list[_AgencyServer]], None] | None = None,
) -> None:
    mails = mail.MailSink()
    apps = build_apps(config, population, mails)
    apps[WITNESS] = witness.build_app()
    agents = config.agent_connect.with_gateways(config.gateway_urls)
    apps[AGENT_CONNECT] = agent_connect_pages.build_app(agents, config.clock)
    apps[DEMARCHES] = demarches.build_app(clock=config.clock)
    # Its tokens are the gateway's: the first gateway named, else the default one.
    gateway = (*config.gateway_urls, DEFAULT_GATEWAY_URL)[0]
    apps[CASES] = cases.build_app(gateway, config.clock)
    servers = _servers(config, apps)
    if on_servers is not None:
        on_servers(list(servers.values()))
    tasks = [asyncio.ensure_future(s.serve()) for s in servers.values()]
    while not all(s.started for s in servers.values()):
        failed = [t for t in tasks if t.done()]
        if failed:
            for server in servers.values():
                server.should_exit = True
            await asyncio.gather(*tasks, return_exceptions=True)
            failed[0].result()
            raise RuntimeError("an agency server stopped during startup")
        await asyncio.sleep(0.01)
    smtp = await mail.start_mail_server(config.host, config.port(MAIL), mails)
    urls = _bound_urls(config.host, servers)
    urls[MAIL] = f"smtp://{config.host}:{smtp.sockets[0].getsockname()[1]}"
    if not config.france_connect.issuer:
        # The provider names itself by the URL it listens on (ephemeral ports in tests).
        apps["france_connect"].state.provider.issuer = urls["france_connect"]
    if not config.agent_connect.issuer:
        apps[AGENT_CONNECT].state.provider.issuer = urls[AGENT_CONNECT]
    # dossier_url in DS's prefill answers: the server's own listening URL.
    apps[DEMARCHES].state.demarches.base_url = urls[DEMARCHES]
    on_ready(urls, apps)
    try:
        await asyncio.gather(*tasks)
    finally:
        smtp.close()
        await smtp.wait_closed()


async def serve(
    config: SandboxConfig, on_ready: Callable[[dict[str, str]], None] | None = None
) -> None:
    """Serve all agencies until SIGINT/SIGTERM; ``on_ready`` receives the listening URLs."""
    population = config.population()
    servers: list[_AgencyServer] = []

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)

    def ready(urls: dict[str, str], apps: dict[str, Starlette]) -> None:
        if on_ready is not None:
            on_ready(urls)

    await _run(config, population, ready, servers.extend)


class RunningSandbox:
    """Agencies served from a background thread; use as a context manager or call ``stop``."""

    def __init__(self, config: SandboxConfig, population: Population) -> None:
        self.config = config
        self.population = population
        self.api_particulier_token = config.api_particulier_token
        self.client_id = config.credentials.client_id
        self.client_secret = config.credentials.client_secret
        self.urls: dict[str, str] = {}  # the agencies' URLs, by name
        self.france_connect_url = ""  # the OpenID Connect provider's URL (its issuer)
        self.france_connect = config.france_connect  # its relying parties and token lifetime
        self.sms_url = ""  # the SMS sink: POST {sms_url}/v1/sms, GET {sms_url}/_sandbox/sms
        self.sms_token = config.sms_token
        self.mail_port = 0  # the SMTP mail sink's port; GET {sms_url}/_sandbox/mails lists it
        self.witness_url = ""  # the audit witness: POST {witness_url}/add-checkpoint
        self.agent_connect_url = ""  # the civil servants' OpenID Connect provider (issuer)
        self.agent_connect = config.agent_connect  # its relying parties and agents
        self.demarches_url = ""  # the démarches-simplifiées sandbox (token SANDBOX_DS_TOKEN)
        self.cases_url = ""  # the case-management subgraph: POST {cases_url}/graphql
        self.apps: dict[str, Starlette] = {}
        self._servers: list[_AgencyServer] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sandbox", daemon=True)

    def _main(self) -> None:
        def ready(urls: dict[str, str], apps: dict[str, Starlette]) -> None:
            self.france_connect_url = urls.pop("france_connect")
            self.sms_url = urls.pop("sms")
            self.mail_port = int(urls.pop(MAIL).rsplit(":", 1)[1])
            self.witness_url = urls.pop(WITNESS)
            self.agent_connect_url = urls.pop(AGENT_CONNECT)
            self.demarches_url = urls.pop(DEMARCHES)
            self.cases_url = urls.pop(CASES)
            self.urls, self.apps = urls, apps
            self._ready.set()

        try:
            asyncio.run(_run(self.config, self.population, ready, self._servers.extend))
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    def start(self, timeout: float = 30.0) -> RunningSandbox:
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None or not self.urls:
            self.stop()
            raise RuntimeError("the sandbox did not start") from self._error
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    config: SandboxConfig | None = None, population: Population | None = None
) -> RunningSandbox:
    """Start every agency on an ephemeral port (``port_base`` is ignored) and wait until ready.

    Pass ``population`` to reuse one already generated with the same size, seed, month and
    scenarios (``config.population()`` builds it).
    """
    config = SandboxConfig(port_base=0) if config is None else config
    if config.port_base != 0:
        config = SandboxConfig(**{**config.__dict__, "port_base": 0})
    population = population or config.population()
    return RunningSandbox(config, population).start()
