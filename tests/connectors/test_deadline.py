"""One deadline per call, retries and token renewal included: an agency that hangs costs
the configured timeout, not a multiple of it.

Elapsed time is measured with the clock and bounded at 1.5 × the timeout: a bound on
behaviour (the old code took 2 × and more), with a generous margin for a loaded machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors import CircuitBreaker, UpstreamClient, UpstreamTimeout
from connectors.oauth import ClientCredentials
from tests.connectors.conftest import Serve

TIMEOUT = 0.6


@pytest.fixture
async def hanging(serve: Serve) -> AsyncIterator[str]:
    """An agency whose token endpoint is slow and whose data endpoint never answers."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    async def slow_token(request: web.Request) -> web.Response:
        await asyncio.sleep(TIMEOUT / 2)
        return web.json_response(
            {"access_token": "abcdefgh", "token_type": "Bearer", "expires_in": 600}
        )

    app = web.Application()
    app.router.add_get("/hang", hang)
    app.router.add_post("/oauth/token", slow_token)
    yield await serve(app)
    release.set()


def upstream(url: str) -> UpstreamClient:
    return UpstreamClient(
        "test",
        url,
        provider="TEST",
        timeout=TIMEOUT,
        pool_size=2,
        breaker=CircuitBreaker(clock=time.monotonic),
    )


async def test_a_hanging_agency_costs_one_timeout(hanging: str) -> None:
    client = upstream(hanging)
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamTimeout):
            await client.get_json(["hang"], [])
    finally:
        elapsed = time.monotonic() - started
        await client.aclose()
    assert elapsed < TIMEOUT * 1.5


async def test_token_renewal_comes_out_of_the_same_deadline(hanging: str) -> None:
    client = upstream(hanging)
    client.auth = ClientCredentials(client, "id", "secret")
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamTimeout):
            await client.get_json(["hang"], [])
    finally:
        elapsed = time.monotonic() - started
        await client.aclose()
    assert elapsed < TIMEOUT * 1.5
