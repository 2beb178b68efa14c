"""The DS client against a small real HTTP server speaking DS's two APIs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from connectors.demarches import (
    DESCRIPTOR_QUERY,
    DOSSIER_QUERY,
    DOSSIERS_QUERY,
    CreatedDossier,
    Demarches,
)
from connectors.errors import (
    ConnectorError,
    DemarchesRefused,
    NotFound,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sandbox import SandboxConfig, start_in_thread
from sandbox.demarches.app import SANDBOX_DS_TOKEN
from tests.connectors.conftest import Serve

TOKEN = "test-ds-token"
CREATED = {
    "dossier_url": "http://ds.example/commencer/rsa?prefill_token=abc",
    "state": "prefilled",
    "dossier_id": "RG9zc2llci00Mg==",
    "dossier_number": 42,
    "dossier_prefill_token": "abc",
}
DESCRIPTOR = {
    "number": 101,
    "title": "Demande de RSA",
    "revision": {"champDescriptors": [{"__typename": "TextChampDescriptor", "id": "Q2hhbXAtMQ=="}]},
}


def dossier(number: int) -> dict[str, Any]:
    return {"id": f"D{number}", "number": number, "state": "en_construction", "champs": []}


Reply = Callable[[dict[str, Any]], web.StreamResponse]


class Ds:
    """What the server saw, and how it answers next."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], Any]] = []
        self.create: Reply = lambda body: web.json_response(CREATED, status=201)
        self.graphql: Reply = self.answer_graphql
        self.pages: list[list[dict[str, Any]]] = [[dossier(1), dossier(2)], [dossier(3)]]

    def answer_graphql(self, body: dict[str, Any]) -> web.StreamResponse:
        query, variables = body["query"], body["variables"]
        if query == DESCRIPTOR_QUERY:
            return web.json_response({"data": {"demarcheDescriptor": DESCRIPTOR}})
        if query == DOSSIER_QUERY:
            return web.json_response({"data": {"dossier": dossier(variables["number"])}})
        assert query == DOSSIERS_QUERY
        index = 0 if variables["after"] is None else int(variables["after"])
        page = {
            "pageInfo": {
                "hasNextPage": index + 1 < len(self.pages),
                "endCursor": str(index + 1),
            },
            "nodes": self.pages[index],
        }
        return web.json_response({"data": {"demarche": {"dossiers": page}}})

    def app(self) -> web.Application:
        async def create(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            self.seen.append((request.path, dict(request.headers), body))
            return self.create(body)

        async def graphql(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            self.seen.append((request.path, dict(request.headers), body))
            return self.graphql(body)

        app = web.Application()
        app.router.add_post("/api/public/v1/demarches/{number}/dossiers", create)
        app.router.add_post("/api/v2/graphql", graphql)
        return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def ds() -> Ds:
    return Ds()


@pytest.fixture
async def client(ds: Ds, serve: Serve, http: httpx.AsyncClient) -> Demarches:
    return Demarches(await serve(ds.app()) + "/", TOKEN, http, timeout=5.0)


async def test_a_dossier_is_created_with_the_body_as_json(ds: Ds, client: Demarches) -> None:
    created = await client.create_dossier(101, {"champ_Q2hhbXAtMQ==": "Dupont"})
    assert created == CreatedDossier(
        url="http://ds.example/commencer/rsa?prefill_token=abc",
        id="RG9zc2llci00Mg==",
        number=42,
        state="prefilled",
        prefill_token="abc",
    )
    path, headers, body = ds.seen[0]
    assert path == "/api/public/v1/demarches/101/dossiers"
    assert headers["Content-Type"] == "application/json"
    assert body == {"champ_Q2hhbXAtMQ==": "Dupont"}


async def test_the_descriptor_is_asked_with_the_token(ds: Ds, client: Demarches) -> None:
    assert await client.descriptor(101) == DESCRIPTOR
    path, headers, body = ds.seen[0]
    assert path == "/api/v2/graphql"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["variables"] == {"number": 101}


async def test_one_dossier_and_every_page_of_dossiers(ds: Ds, client: Demarches) -> None:
    assert (await client.dossier(7))["number"] == 7
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    found = await client.dossiers(101, updated_since=since, state="en_construction")
    assert [d["number"] for d in found] == [1, 2, 3]
    first, second = ds.seen[1][2]["variables"], ds.seen[2][2]["variables"]
    assert first["updatedSince"] == "2026-01-02T03:04:05+00:00"
    assert first["state"] == "en_construction" and first["first"] == 100
    assert first["after"] is None and second["after"] == "1"
    with pytest.raises(ValueError, match="state"):
        await client.dossiers(101, updated_since=None, state="brouillon")


def test_the_queries_use_aliases_where_ds_types_differ() -> None:
    # GraphQL refuses one response name with two types: DS's own queries alias them.
    for alias in ("integerNumber: value", "decimalNumber: value", "checked: value"):
        assert alias in DOSSIER_QUERY and alias in DOSSIERS_QUERY


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, DemarchesRefused),
        (422, DemarchesRefused),
        (401, UpstreamUnavailable),
        (403, UpstreamUnavailable),
        (404, NotFound),
        (500, UpstreamUnavailable),
        (503, UpstreamUnavailable),
    ],
)
async def test_statuses_are_typed(
    ds: Ds, client: Demarches, status: int, error: type[ConnectorError]
) -> None:
    ds.create = lambda body: web.json_response({"error": "champ Dupont invalide"}, status=status)
    with pytest.raises(error) as caught:
        await client.create_dossier(101, {"champ_x": "Dupont"})
    assert "Dupont" not in caught.value.message and "127.0.0.1" not in caught.value.message
    assert caught.value.provider == "DS"


@pytest.mark.parametrize(
    "answer",
    [
        web.Response(body=b"<html>oops</html>", status=201, content_type="text/html"),
        web.json_response({"dossier_url": "x", "dossier_number": 1}, status=201),
        web.json_response(CREATED, status=200),
        web.json_response([CREATED], status=201),
    ],
)
async def test_a_garbage_creation_answer_is_invalid(
    ds: Ds, client: Demarches, answer: web.Response
) -> None:
    ds.create = lambda body: answer
    with pytest.raises(UpstreamInvalid):
        await client.create_dossier(101, {})


@pytest.mark.parametrize(
    ("errors", "error"),
    [
        ([{"message": "Demarche not found", "extensions": {"code": "not_found"}}], NotFound),
        ([{"message": "hidden", "extensions": {"code": "unauthorized"}}], UpstreamUnavailable),
        ([{"message": "Field 'x' doesn't exist"}], UpstreamInvalid),
    ],
)
async def test_graphql_errors_are_typed(
    ds: Ds, client: Demarches, errors: list[dict[str, Any]], error: type[ConnectorError]
) -> None:
    ds.graphql = lambda body: web.json_response({"data": None, "errors": errors})
    with pytest.raises(error):
        await client.descriptor(101)
    # A query DS cannot parse comes back as a 400 with its errors.
    ds.graphql = lambda body: web.json_response({"errors": errors}, status=400)
    with pytest.raises(error):
        await client.dossier(1)


async def test_unknown_procedure_or_garbage_graphql(ds: Ds, client: Demarches) -> None:
    ds.graphql = lambda body: web.json_response({"data": {"demarcheDescriptor": None}})
    with pytest.raises(NotFound):
        await client.descriptor(999)
    ds.graphql = lambda body: web.Response(body=b"not json", content_type="application/json")
    with pytest.raises(UpstreamInvalid):
        await client.descriptor(101)
    ds.graphql = lambda body: web.json_response({"data": {"dossier": {"number": "one"}}})
    with pytest.raises(UpstreamInvalid):
        await client.dossier(1)


async def test_a_page_that_repeats_its_cursor_is_invalid(ds: Ds, client: Demarches) -> None:
    def same_page(body: dict[str, Any]) -> web.StreamResponse:
        info = {"hasNextPage": True, "endCursor": "same"}
        page = {"pageInfo": info, "nodes": [dossier(1)]}
        return web.json_response({"data": {"demarche": {"dossiers": page}}})

    ds.graphql = same_page
    with pytest.raises(UpstreamInvalid):
        await client.dossiers(101, updated_since=None)


async def test_a_silent_server_times_out(serve: Serve, http: httpx.AsyncClient) -> None:
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await never.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/api/v2/graphql", hang)
    client = Demarches(await serve(app), TOKEN, http, timeout=0.2)
    with pytest.raises(UpstreamTimeout):
        await client.descriptor(101)


async def test_nobody_listening_is_unavailable(http: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Demarches(f"http://127.0.0.1:{port}", TOKEN, http)
    with pytest.raises(UpstreamUnavailable):
        await client.create_dossier(101, {})


@pytest.fixture(scope="module")
def sandbox_ds() -> Iterator[str]:
    with start_in_thread(SandboxConfig(size=20)) as running:
        yield running.demarches_url


async def test_against_the_sandbox_ds(sandbox_ds: str, http: httpx.AsyncClient) -> None:
    client = Demarches(sandbox_ds, SANDBOX_DS_TOKEN, http)
    described = await client.descriptor(101)
    assert described["number"] == 101
    champs = described["revision"]["champDescriptors"]
    repetition = next(c for c in champs if c["__typename"] == "RepetitionChampDescriptor")
    assert repetition["champDescriptors"]
    created = await client.create_dossier(101, {"champ_Q2hhbXAtMTAxMDAy": "1990-01-01"})
    assert created.state == "prefilled" and "/commencer/demande-rsa?prefill_token=" in created.url
    # A dossier nobody deposited is a brouillon: DS's API does not show it.
    with pytest.raises(NotFound):
        await client.dossier(created.number)
    assert await client.dossiers(101, updated_since=None) == []
    with pytest.raises(NotFound):
        await client.descriptor(999)
    with pytest.raises(UpstreamUnavailable):
        await Demarches(sandbox_ds, "wrong-token", http).descriptor(101)
