"""The client registry in the database: two application instances share one database (SQLite
file, or one PostgreSQL schema) and each sees a change at its next request, no restart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.client_store import add_client, ensure_demo_clients, rotate_secret
from gateway.clients import ClientRegistry, ensure_default_clients, hash_secret, parse_clients
from runtime.settings import Settings, load
from store import ClientExists, ClientNotFound, ClientStore, connect, database_url_for, migrate
from tests.services import unavailable

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
Q = {"query": "{ __typename }"}
SCOPES = ["person:read", "eligibility:read"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Replicas:
    settings: Settings
    store: ClientStore  # the database, as a command sees it
    a: httpx.AsyncClient
    b: httpx.AsyncClient


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Replicas]:
    env = {"UNEFOIS_DATA_DIR": str(tmp_path)}
    schema = None
    conn = None
    if request.param == "postgresql":
        schema = "clients_" + uuid.uuid4().hex[:12]
        try:
            conn = await asyncpg.connect(POSTGRES, timeout=3)
        except (OSError, asyncpg.PostgresError):
            unavailable("PostgreSQL is not running on 127.0.0.1:5432")
        env |= {"UNEFOIS_DATABASE_URL": POSTGRES, "UNEFOIS_DATABASE_SCHEMA": schema}
    settings = load(env)
    rules = EligibilityService(workers=1)  # never started: no query here computes eligibility
    try:
        async with AsyncExitStack() as stack:
            https = []
            for _ in range(2):
                app = build_app(settings, eligibility=rules)
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app)
                https.append(
                    await stack.enter_async_context(
                        httpx.AsyncClient(transport=transport, base_url=settings.public_url)
                    )
                )
            database = await connect(
                database_url_for(settings.data_dir, settings.database_url), schema=schema
            )
            stack.push_async_callback(database.aclose)
            await migrate(database)
            yield Replicas(settings, ClientStore(database), https[0], https[1])
    finally:
        if conn is not None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def _query(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/graphql", json=Q, headers={"Authorization": f"Bearer {token}"})


async def test_a_client_added_works_on_both_replicas_at_once(replicas: Replicas) -> None:
    # Each replica has answered once already: the registry it holds is the empty one.
    assert (await _token(replicas.a, "caf-web", "x")).status_code == 401
    assert (await _token(replicas.b, "caf-web", "x")).status_code == 401
    secret = await add_client(replicas.store, "caf-web", "CAF", SCOPES, "social", _now())
    for http in (replicas.a, replicas.b):
        answer = await _token(http, "caf-web", secret)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["scope"].split()) == set(SCOPES)
        token = answer.json()["access_token"]
        # A token of one replica is accepted by the other (shared database and keys).
        for other in (replicas.a, replicas.b):
            assert (await _query(other, token)).status_code == 200
    meta = (await replicas.b.get("/.well-known/oauth-authorization-server")).json()
    assert meta["scopes_supported"] == sorted(SCOPES)


async def test_a_disabled_client_is_refused_on_both_at_the_next_request(
    replicas: Replicas,
) -> None:
    secret = await add_client(replicas.store, "caf-web", "CAF", SCOPES, "social", _now())
    token = (await _token(replicas.a, "caf-web", secret)).json()["access_token"]
    assert (await _query(replicas.b, token)).status_code == 200
    await replicas.store.set_status("caf-web", "disabled", _now())
    for http in (replicas.a, replicas.b):
        refused = await _token(http, "caf-web", secret)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        live = await _query(http, token)
        assert live.status_code == 401
        assert live.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_rotated_secret_replaces_the_old_one_and_its_tokens(replicas: Replicas) -> None:
    old = await add_client(replicas.store, "caf-web", "CAF", SCOPES, "social", _now())
    old_token = (await _token(replicas.a, "caf-web", old)).json()["access_token"]
    # The token's iat has whole seconds: a rotation a second later sits clearly after it.
    new = await rotate_secret(replicas.store, "caf-web", _now() + timedelta(seconds=1))
    for http in (replicas.a, replicas.b):
        assert (await _token(http, "caf-web", old)).json()["error"] == "invalid_client"
        assert (await _query(http, old_token)).status_code == 401
    # A token issued after the rotation (the same second counts as after it).
    record = await replicas.store.get("caf-web")
    assert record.secret_rotated_at is not None
    answer = await _token(replicas.b, "caf-web", new)
    assert answer.status_code == 200, answer.text


async def test_the_demo_clients_get_working_secrets(replicas: Replicas) -> None:
    secrets = await ensure_demo_clients(replicas.store, _now() - timedelta(seconds=5))
    assert set(secrets) == {"demo-agency-app", "demo-auditor", "demo-form-builder"}
    for client_id, secret in secrets.items():
        answer = await _token(replicas.b, client_id, secret)
        assert answer.status_code == 200, answer.text
    again = await ensure_demo_clients(replicas.store, _now() - timedelta(seconds=4))
    assert (await _token(replicas.a, "demo-auditor", secrets["demo-auditor"])).status_code == 401
    assert (await _token(replicas.a, "demo-auditor", again["demo-auditor"])).status_code == 200


async def test_store_errors_are_typed(replicas: Replicas) -> None:
    await add_client(replicas.store, "caf-web", "CAF", SCOPES, "social", _now())
    with pytest.raises(ClientExists):
        await add_client(replicas.store, "caf-web", "CAF", SCOPES, "social", _now())
    with pytest.raises(ClientNotFound):
        await replicas.store.set_status("nobody", "disabled", _now())
    with pytest.raises(ClientNotFound):
        await rotate_secret(replicas.store, "nobody", _now())
    versions = await replicas.store.version()
    assert versions == 1  # the refused changes did not count


async def test_the_clients_file_is_imported_while_the_registry_is_new(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path)})
    secret = ensure_default_clients(settings.clients_path)
    assert secret is not None
    app = build_app(settings, eligibility=EligibilityService(workers=1))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        assert (await _token(http, "demo-agency-app", secret)).status_code == 200
    database = await connect(database_url_for(settings.data_dir, None))
    try:
        store = ClientStore(database)
        assert await store.version() == 1
        assert [r.id for r in await store.all()] == ["demo-agency-app"]
    finally:
        await database.aclose()


def test_a_disabled_client_costs_the_hash_an_unknown_one_does() -> None:
    text = f"""
clients:
  - id: caf-off
    name: Closed
    secret_hash: "{hash_secret("s3cret")}"
    scopes: [person:read]
    sector: social
"""
    registry = parse_clients(Path("clients.yaml"), text)
    assert registry.authenticate("caf-off", "s3cret") is not None
    client = registry.get("caf-off")
    assert client is not None
    disabled = ClientRegistry([replace(client, active=False)], registry)
    assert disabled.authenticate("caf-off", "s3cret") is None
