"""Health a load balancer can use: ``/healthz`` says the process lives, ``/readyz`` that this
replica can serve (database reachable, migrations at head, signing keys loaded). An open
circuit to an agency is shown, never a reason to be taken out: every replica shares it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, text
from starlette.applications import Starlette

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.client_store import ensure_demo_clients
from gateway.clients import DEMO_CLIENT_ID
from runtime import Services
from runtime.settings import SANDBOX_PORTS, Settings, load
from store import head_revision as store_head
from tests.services import unavailable

HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES = f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres"
STORE_INI = Path(__file__).resolve().parents[2] / "store" / "alembic.ini"

LOOKUP = (
    "query Lookup($ref: PersonRef!, $ctx: AccessContextInput!) {"
    " person(ref: $ref, context: $ctx) { identity { birthName } } }"
)
VARIABLES = {
    "ref": {
        "identity": {
            "birthName": "MARTIN",
            "givenNames": ["Camille"],
            "birthDate": "1980-02-03",
            "sex": "F",
            "birthCountry": "99100",
            "birthPlace": "75056",
        }
    },
    "ctx": {"purpose": "rsa_instruction", "recipient": "13002526500013", "object": "dossier-42"},
}


def closed_port() -> int:
    """A port nothing listens on (bound then released): a dead agency or database."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def dead_agencies() -> dict[str, str]:
    port = closed_port()
    return {f"UNEFOIS_{name.upper()}_URL": f"http://{HOST}:{port}" for name in SANDBOX_PORTS}


@dataclass
class Running:
    app: Starlette
    http: httpx.AsyncClient

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def ready(self) -> tuple[int, dict[str, Any]]:
        answer = await self.http.get("/readyz")
        return answer.status_code, answer.json()

    async def token(self) -> str:
        secrets = await ensure_demo_clients(self.services.clients, datetime.now(UTC))
        answer = await self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(DEMO_CLIENT_ID, secrets[DEMO_CLIENT_ID]),
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    app = build_app(settings, eligibility=EligibilityService(workers=1))  # never started
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as http,
    ):
        yield Running(app, http)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the local PostgreSQL, dropped afterwards."""
    name = "health_" + uuid.uuid4().hex[:12]

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError):
        unavailable("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield name
    finally:
        asyncio.run(drop())


class Forwarder:
    """A TCP relay to PostgreSQL that can be cut: the database unreachable for real, as a
    network partition makes it, while the gateway process keeps running."""

    def __init__(self) -> None:
        self.port = closed_port()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, HOST, self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, POSTGRES_PORT)
        self._writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_an_open_circuit_is_shown_and_the_replica_stays_ready(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), **dead_agencies()})
    async with running(settings) as gateway:
        status, body = await gateway.ready()
        assert status == 200, body
        assert body["upstreams"]["api_particulier"] == "closed"
        bearer = {"Authorization": f"Bearer {await gateway.token()}"}
        codes: set[str] = set()
        for _ in range(20):  # the breaker opens after a few failed calls
            answer = await gateway.http.post(
                "/graphql", json={"query": LOOKUP, "variables": VARIABLES}, headers=bearer
            )
            codes |= {e["extensions"]["code"] for e in answer.json()["errors"]}
            if "open" in gateway.services.connectors.circuits().values():
                break
        assert codes == {"UPSTREAM_UNAVAILABLE"}
        status, body = await gateway.ready()
        assert status == 200, body
        assert body["status"] == "ready"
        assert "failed" not in body
        assert "open" in body["upstreams"].values()
        opened = next(name for name, state in body["upstreams"].items() if state == "open")
        scraped = (await gateway.http.get("/metrics")).text
        families = {f.name: f for f in text_string_to_metric_families(scraped)}
        circuit = {s.labels["agency"]: s.value for s in families["unefois_circuit_state"].samples}
        assert circuit[opened] == 2.0
        checks = {s.labels["check"]: s.value for s in families["unefois_readiness_check"].samples}
        assert checks == {"database": 1.0, "migrations": 1.0, "keys": 1.0}


async def test_database_unreachable_is_not_ready_and_health_still_answers(
    tmp_path: Path, postgres_schema: str
) -> None:
    relay = Forwarder()
    await relay.open()
    settings = load(
        {
            "UNEFOIS_DATA_DIR": str(tmp_path),
            "UNEFOIS_DATABASE_URL": f"postgresql://postgres@{HOST}:{relay.port}/postgres",
            "UNEFOIS_DATABASE_SCHEMA": postgres_schema,
            **dead_agencies(),
        }
    )
    async with running(settings) as gateway:
        status, body = await gateway.ready()
        assert status == 200, body
        assert (body["database"], body["migrations"], body["keys"]) == (
            "reachable",
            "at head",
            "loaded",
        )
        await relay.cut()
        status, body = await gateway.ready()
        assert status == 503, body
        assert body["status"] == "not_ready"
        assert body["database"] == "unreachable"
        assert body["migrations"] == "unknown"
        assert body["failed"] == ["database"]
        assert body["keys"] == "loaded"
        live = await gateway.http.get("/healthz")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        scraped = (await gateway.http.get("/metrics")).text
        assert 'unefois_readiness_check{check="database"} 0.0' in scraped
        await relay.open()  # the network is back: the pool reconnects
        status, body = await gateway.ready()
        assert status == 200, body
        assert body["database"] == "reachable"
        await relay.cut()


def _store_to(connection: Connection, revision: str, upgrade: bool) -> None:
    config = Config(str(STORE_INI))
    config.attributes["connection"] = connection
    config.attributes["schema"] = None
    (command.upgrade if upgrade else command.downgrade)(config, revision)


async def test_a_database_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    settings = load({"UNEFOIS_DATA_DIR": str(tmp_path), **dead_agencies()})
    async with running(settings) as gateway:
        engine = gateway.services.database.engine
        # The database goes back one revision (a restored backup, a rollback of the schema).
        async with engine.begin() as conn:
            await conn.run_sync(_store_to, "-1", False)
        status, body = await gateway.ready()
        assert status == 503, body
        assert body["failed"] == ["migrations"]
        assert body["database"] == "reachable"
        assert body["migrations"].startswith("behind: store ")
        assert body["migrations"].endswith(f" < {store_head()}")
        assert (await gateway.http.get("/healthz")).status_code == 200
        # A revision this code does not know: a later release migrated first. Still ready.
        async with engine.begin() as conn:
            await conn.run_sync(_store_to, "head", True)
            await conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        status, body = await gateway.ready()
        assert status == 200, body
        assert body["migrations"] == "newer: store 0099"
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": store_head()}
            )
        status, body = await gateway.ready()
        assert (status, body["migrations"]) == (200, "at head")
