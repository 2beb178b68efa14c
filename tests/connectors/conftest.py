from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors import CallContext, CircuitBreaker, PivotIdentity, StaticToken, UpstreamClient

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SIRET = "13002526500013"


def fixed_clock() -> datetime:
    return NOW


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def ctx() -> CallContext:
    return CallContext(recipient=SIRET, on=date(2025, 3, 14))


@pytest.fixture
def person() -> PivotIdentity:
    return PivotIdentity("MARTIN", ("SAMUEL", "PAUL"), date(1980, 9, 20), "M", "99100", "08480")


Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an aiohttp app on a free local port; returns its base URL."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, port=0)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


def make_client(
    url: str,
    *,
    token: str | None = "tok",  # noqa: S107 - a test token
    timeout: float = 5.0,
    provider: str = "TEST",
    monotonic: FakeMonotonic | None = None,
    **kwargs: object,
) -> UpstreamClient:
    clock = monotonic or FakeMonotonic()
    kwargs.setdefault("sleep", no_sleep)
    return UpstreamClient(
        "test",
        url,
        provider=provider,
        timeout=timeout,
        pool_size=4,
        breaker=CircuitBreaker(clock=clock),
        auth=StaticToken(token) if token else None,
        monotonic=clock,
        **kwargs,  # type: ignore[arg-type]
    )
