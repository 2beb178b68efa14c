"""Concurrent person queries against a gateway subprocess, keeping every delivered accessId."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.clients import DEMO_CLIENT_ID
from gateway.server import graphql_identity

RECIPIENT = "13002526500013"
PERSON_QUERY = (
    "query($ref: PersonRef!, $ctx: AccessContextInput!) { person(ref: $ref, context: $ctx) {"
    " accessId handle identity { birthName birthDate } } }"
)
REQUEST_TIMEOUT = 15.0


def identity_ref(entry: dict[str, Any]) -> dict[str, Any]:
    """A ``/_sandbox/persons`` entry → the GraphQL ``PersonRef``."""
    return {"identity": graphql_identity(entry["personne"])}


def context(purpose: str, case: str) -> dict[str, str]:
    return {"purpose": purpose, "recipient": RECIPIENT, "object": case}


async def token(http: httpx.AsyncClient, base_url: str, secret: str) -> str:
    answer = await http.post(
        base_url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, secret),
    )
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["access_token"]
    return value


def access_id_of(answer: httpx.Response) -> str | None:
    """The accessId of a delivered answer: a 200 whose body holds ``data.person.accessId``."""
    if answer.status_code != 200:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    person = ((body or {}).get("data") or {}).get("person") or {}
    value = person.get("accessId")
    return value if isinstance(value, str) and value else None


async def one_query(
    http: httpx.AsyncClient, base_url: str, bearer: str, ref: dict[str, Any], ctx: dict[str, str]
) -> httpx.Response:
    return await http.post(
        base_url + "/graphql",
        json={"query": PERSON_QUERY, "variables": {"ref": ref, "ctx": ctx}},
        headers={"Authorization": f"Bearer {bearer}"},
    )


@dataclass
class Load:
    """What a load run saw. ``delivered``: accessIds of answers fully received."""

    delivered: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    sent: int = 0
    in_flight: int = 0
    # Set when ``sent`` reaches ``sent_mark``, and when ``delivered`` reaches ``delivered_mark``.
    sent_mark: int = 0
    delivered_mark: int = 0
    sent_reached: asyncio.Event = field(default_factory=asyncio.Event)
    delivered_reached: asyncio.Event = field(default_factory=asyncio.Event)


async def run_load(
    http: httpx.AsyncClient,
    base_url: str,
    bearer: str,
    refs: Sequence[dict[str, Any]],
    ctx: dict[str, str],
    concurrency: int,
    load: Load,
) -> Load:
    """Each ref queried once, by ``concurrency`` workers; a worker stops at its first transport
    error (the gateway is gone), so a killed gateway ends the run promptly."""
    queue = list(reversed(refs))

    async def worker() -> None:
        while queue:
            ref = queue.pop()
            load.sent += 1
            if load.sent >= load.sent_mark > 0:
                load.sent_reached.set()
            load.in_flight += 1
            try:
                answer = await one_query(http, base_url, bearer, ref, ctx)
            except httpx.TransportError:
                load.transport_errors += 1
                return
            finally:
                load.in_flight -= 1
            load.statuses[answer.status_code] = load.statuses.get(answer.status_code, 0) + 1
            access_id = access_id_of(answer)
            if access_id is not None:
                load.delivered.append(access_id)
                if len(load.delivered) >= load.delivered_mark > 0:
                    load.delivered_reached.set()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return load


def client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits)
