"""Trusted documents over HTTP: two application instances on one database (SQLite file, or one
PostgreSQL schema), clients with real tokens, documents registered in the store as the command
does; each instance sees a registration or a revocation at its next request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from eligibility import EligibilityService
from gateway.app import build_app
from gateway.client_store import add_client
from runtime.settings import load
from store import (
    ClientStore,
    DocumentStore,
    TrustedDocument,
    connect,
    database_url_for,
    document_hash,
    migrate,
)
from tests.services import unavailable

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WHO = "query Who { __typename }"
OTHER = "query Other { __typename }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


@dataclass
class Replicas:
    documents: DocumentStore  # the database, as ``unefois documents`` sees it
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    tokens: dict[str, str]  # client id → access token


async def _open(tmp_path: Path, param: str, mode: str) -> AsyncIterator[Replicas]:
    env = {"UNEFOIS_DATA_DIR": str(tmp_path), "UNEFOIS_TRUSTED_DOCUMENTS": mode}
    schema = None
    conn = None
    if param == "postgresql":
        schema = "documents_" + uuid.uuid4().hex[:12]
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
                https.append(
                    await stack.enter_async_context(
                        httpx.AsyncClient(
                            transport=httpx.ASGITransport(app), base_url=settings.public_url
                        )
                    )
                )
            database = await connect(
                database_url_for(settings.data_dir, settings.database_url), schema=schema
            )
            stack.push_async_callback(database.aclose)
            await migrate(database)
            tokens = {}
            for client in ("caf-web", "msa-web"):
                secret = await add_client(
                    ClientStore(database), client, client, ["person:read"], "social", _now()
                )
                answer = await https[0].post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client, secret),
                )
                tokens[client] = answer.json()["access_token"]
            yield Replicas(DocumentStore(database), https[0], https[1], tokens)
    finally:
        if conn is not None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def off(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Replicas]:
    async for replicas in _open(tmp_path, request.param, "off"):
        yield replicas


@pytest.fixture(params=["sqlite", "postgresql"])
async def registered(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Replicas]:
    async for replicas in _open(tmp_path, request.param, "registered"):
        yield replicas


def _now() -> datetime:
    return datetime.now(UTC)


async def _register(replicas: Replicas, client: str, text: str) -> None:
    await replicas.documents.register(
        [TrustedDocument(client, text, document_hash(text), _now(), name=None)]
    )


async def _post(
    http: httpx.AsyncClient, token: str, body: dict[str, Any], accept: str = GRAPHQL_RESPONSE
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    return await http.post("/graphql", json=body, headers=headers)


def _code(answer: httpx.Response) -> str:
    [error] = answer.json()["errors"]
    return str(error["extensions"]["code"])


async def test_a_registered_document_runs_by_id_on_both_replicas(off: Replicas) -> None:
    token = off.tokens["caf-web"]
    by_id = {"documentId": document_hash(WHO)}
    # Both replicas have answered (nothing registered yet) before the registration.
    for http in (off.a, off.b):
        answer = await _post(http, token, by_id)
        assert (answer.status_code, _code(answer)) == (400, "PERSISTED_DOCUMENT_NOT_FOUND")
        assert answer.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    await _register(off, "caf-web", WHO)
    for http in (off.a, off.b):
        answer = await _post(http, token, by_id)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"data": {"__typename": "Query"}}
    # The operation's name labels the metrics, as with its text.
    metrics = (await off.a.get("/metrics")).text
    assert 'unefois_graphql_operations_total{operation="Who",outcome="ok"}' in metrics
    # Off: free text still runs.
    assert (await _post(off.a, token, {"query": OTHER})).json() == {"data": {"__typename": "Query"}}


async def test_an_unknown_or_another_client_s_document_is_refused(off: Replicas) -> None:
    await _register(off, "msa-web", WHO)
    token = off.tokens["caf-web"]
    for document_id in (document_hash(WHO), document_hash(OTHER)):
        answer = await _post(off.a, token, {"documentId": document_id})
        assert (answer.status_code, _code(answer)) == (400, "PERSISTED_DOCUMENT_NOT_FOUND")
        assert "data" not in answer.json()
    # Under plain JSON a request error answers 200, as a document failing validation does.
    plain = await _post(off.a, token, {"documentId": document_hash(WHO)}, "application/json")
    assert (plain.status_code, _code(plain)) == (200, "PERSISTED_DOCUMENT_NOT_FOUND")
    assert (await _post(off.a, off.tokens["msa-web"], {"documentId": document_hash(WHO)})).json()[
        "data"
    ] == {"__typename": "Query"}


async def test_a_revoked_document_is_refused_at_the_next_request(off: Replicas) -> None:
    await _register(off, "caf-web", WHO)
    token = off.tokens["caf-web"]
    body = {"documentId": document_hash(WHO)}
    assert (await _post(off.b, token, body)).status_code == 200
    await off.documents.revoke("caf-web", document_hash(WHO), _now())
    for http in (off.a, off.b):
        answer = await _post(http, token, body)
        assert (answer.status_code, _code(answer)) == (400, "PERSISTED_DOCUMENT_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": "sha256:" + "A" * 64},
        {"documentId": "sha256:abc"},
        {"documentId": "md5:" + "a" * 32},
        {"documentId": 42},
        {"documentId": document_hash(WHO), "query": WHO},
    ],
)
async def test_a_malformed_request_is_refused_typed(off: Replicas, body: dict[str, Any]) -> None:
    answer = await _post(off.a, off.tokens["caf-web"], body)
    assert (answer.status_code, _code(answer)) == (400, "BAD_USER_INPUT")


async def test_an_oversized_body_is_still_refused(off: Replicas) -> None:
    body = {"documentId": document_hash(WHO), "variables": {"pad": "x" * (70 * 1024)}}
    answer = await _post(off.a, off.tokens["caf-web"], body)
    assert (answer.status_code, _code(answer)) == (413, "BAD_USER_INPUT")


async def test_registered_mode_runs_only_registered_text(registered: Replicas) -> None:
    token = registered.tokens["caf-web"]
    answer = await _post(registered.a, token, {"query": WHO})
    assert (answer.status_code, _code(answer)) == (400, "PERSISTED_DOCUMENT_REQUIRED")
    plain = await _post(registered.a, token, {"query": WHO}, "application/json")
    assert (plain.status_code, _code(plain)) == (200, "PERSISTED_DOCUMENT_REQUIRED")
    await _register(registered, "caf-web", WHO)
    for http in (registered.a, registered.b):
        # The registered text, sent as text or by id, runs; another text does not.
        assert (await _post(http, token, {"query": WHO})).json()["data"] == {"__typename": "Query"}
        assert (await _post(http, token, {"documentId": document_hash(WHO)})).status_code == 200
        other = await _post(http, token, {"query": OTHER})
        assert _code(other) == "PERSISTED_DOCUMENT_REQUIRED"
        # The same text with one more space is another document.
        spaced = await _post(http, token, {"query": WHO + " "})
        assert _code(spaced) == "PERSISTED_DOCUMENT_REQUIRED"
    # Another client's registration lets nothing of it run for this one.
    other_client = await _post(registered.a, registered.tokens["msa-web"], {"query": WHO})
    assert _code(other_client) == "PERSISTED_DOCUMENT_REQUIRED"
