"""The gateway in-process, the sandbox agencies on real local HTTP: the whole request path."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.clients import DEMO_CLIENT_ID, ensure_default_clients
from gateway.keys import SigningKeys, load_or_create
from gateway.server import graphql_identity
from runtime import Services
from runtime.settings import Settings, load
from sandbox import AGENCIES, RunningSandbox, SandboxConfig, start_in_thread
from tests.catalogue import with_everything
from tests.services import unavailable
from tests.upstreams import agency_env

RECIPIENT = "13002526500013"
# The shipped catalogue releases to each purpose only what its procedure needs; tests of the
# request path use one more purpose, granted every category, added to a copy of it.
CONTEXT = {"purpose": "e2e_everything", "recipient": RECIPIENT, "object": "dossier-42"}


def e2e_catalogue(directory: Path) -> Path:
    """A copy of the shipped catalogue with the ``e2e_everything`` purpose added."""
    return with_everything(directory, "e2e_everything")


NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)  # the sandbox describes June 2025
# A bound on a hung agency call, not a speed requirement: the sandbox shares this process,
# whose pauses (a full collection of a heap the whole test session has grown) took one
# agency's answer past a second on a loaded machine. The fault tests, which wait timeouts
# out, bound the hanging agency's calls at ``FAULT_TIMEOUT`` (``short_timeout``).
UPSTREAM_TIMEOUT = 5.0
FAULT_TIMEOUT = 1.0
# For a campaign, which reads 64 persons at once from that sandbox.
BULK_TIMEOUT = 10.0


def short_timeout(agency: str) -> dict[str, str]:
    """The setting giving ``agency`` ``FAULT_TIMEOUT``: for tests that make it hang (the
    other agencies keep their bound, so that a slow answer of theirs fails nothing)."""
    return {f"UNEFOIS_{agency.upper()}_TIMEOUT": str(FAULT_TIMEOUT)}


def bulk_timeouts(sandbox: RunningSandbox) -> dict[str, str]:
    """The settings giving every agency ``BULK_TIMEOUT``: for tests of a campaign."""
    return {f"UNEFOIS_{name.upper()}_TIMEOUT": str(BULK_TIMEOUT) for name in sandbox.urls}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Gateway:
    http: httpx.AsyncClient
    token: str
    settings: Settings
    keys: SigningKeys
    clock: Clock
    sandbox: RunningSandbox
    app: Starlette | None = None

    @property
    def services(self) -> Services:
        """The running application's services (what a command on its data would open)."""
        assert self.app is not None
        services: Services = self.app.state.services
        return services

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    def token_for(self, client_id: str, scope: str = "person:read") -> str:
        """An access token of ours for another client, signed with the gateway's key."""
        now = int(self.clock.now.timestamp())
        claims = {
            "iss": self.settings.token_issuer,
            "sub": client_id,
            "client_id": client_id,
            "aud": self.settings.token_audience,
            "iat": now,
            "exp": now + 300,
            "jti": f"t-{client_id}-{now}",
            "scope": scope,
        }
        return self.keys.sign(claims)

    async def citizen_token(self, person_index: int) -> str:
        """A FranceConnect access token of the sandbox provider for that person."""
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                self.sandbox.france_connect_url + "/_sandbox/france_connect/tokens",
                json={"person": person_index},
            )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def person(
        self,
        selection: str,
        ref: dict[str, Any],
        context: dict[str, str] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        q = (
            "query($ref: PersonRef!, $ctx: AccessContextInput!) "
            f"{{ person(ref: $ref, context: $ctx) {{ {selection} }} }}"
        )
        response = await self.query(q, {"ref": ref, "ctx": context or CONTEXT}, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def identity(entry: dict[str, Any]) -> dict[str, Any]:
    """A sandbox person entry → the GraphQL pivot identity input."""
    return graphql_identity(entry["personne"])


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    with start_in_thread(SandboxConfig(size=800, reference_month="2025-06")) as running:
        yield running


@pytest.fixture(scope="session")
def persons(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with httpx.Client(timeout=5.0) as client:
        answer = client.get(sandbox.urls["civil_registry"] + "/_sandbox/persons?limit=800")
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def pick(persons: list[dict[str, Any]], **flags: Any) -> dict[str, Any]:
    for entry in persons:
        if all(entry.get(k) == v for k, v in flags.items()):
            return entry
    raise LookupError(f"no sandbox person with {flags}")


@pytest.fixture
def reset_faults(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    with httpx.Client(timeout=5.0) as client:
        for agency in AGENCIES:
            client.put(sandbox.urls[agency] + "/_sandbox/faults", json={})


@pytest.fixture(scope="session")
def rules() -> Iterator[EligibilityService]:
    """One warm pool of rule workers for the whole session: building OpenFisca's tax-benefit
    system takes seconds per worker."""
    service = EligibilityService(workers=1)
    asyncio.run(service.start())
    yield service
    asyncio.run(service.aclose())


@asynccontextmanager
async def open_gateway(
    sandbox: RunningSandbox,
    tmp_path: Path,
    rules: EligibilityService,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Gateway]:
    env = {
        "UNEFOIS_DATA_DIR": str(tmp_path),
        "UNEFOIS_PUBLIC_URL": "http://127.0.0.1:8000",
        "UNEFOIS_POLICIES_DIR": str(e2e_catalogue(tmp_path)),
        "UNEFOIS_FRANCECONNECT_ISSUER": sandbox.france_connect_url,
        "UNEFOIS_DS_URL": sandbox.demarches_url,
    }
    env |= agency_env(sandbox, UPSTREAM_TIMEOUT)
    env.update(extra or {})
    settings = load(env)
    secret = ensure_default_clients(settings.clients_path)
    assert secret is not None
    keys = load_or_create(settings.data_dir, settings.signing_alg)
    clock = Clock(NOW)
    app = build_app(settings, clock=clock, keys=keys, eligibility=rules)
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http,
    ):
        answer = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, secret)
        )
        assert answer.status_code == 200, answer.text
        yield Gateway(http, answer.json()["access_token"], settings, keys, clock, sandbox, app)


@pytest.fixture
async def gateway(
    sandbox: RunningSandbox, tmp_path: Path, reset_faults: None, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    async with open_gateway(sandbox, tmp_path, rules) as gw:
        yield gw


POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def gateway_pg(
    sandbox: RunningSandbox, tmp_path: Path, reset_faults: None, rules: EligibilityService
) -> AsyncIterator[Gateway]:
    """The gateway with its store on the real PostgreSQL, in a schema of its own."""
    schema = "e2e_" + uuid.uuid4().hex[:12]
    try:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        extra = {"UNEFOIS_DATABASE_URL": POSTGRES, "UNEFOIS_DATABASE_SCHEMA": schema}
        async with open_gateway(sandbox, tmp_path, rules, extra) as gw:
            yield gw
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


SANDBOX_MAPPINGS = Path(__file__).resolve().parents[2] / "sandbox" / "demarches" / "mappings"


async def register_sandbox_procedures(gateway: Gateway) -> list[int]:
    """Register the mapping files of the sandbox's démarches-simplifiées procedures, as
    ``unefois procedure register`` does (checked against the sandbox's descriptors)."""
    from gateway.procedures import register_procedure

    numbers = []
    for path in sorted(SANDBOX_MAPPINGS.glob("*.yaml")):
        procedure, _ = await register_procedure(gateway.services, path, gateway.clock.now)
        numbers.append(procedure.number)
    return numbers
