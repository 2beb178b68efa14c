from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy

from connectors import CallContext, CircuitBreaker, PivotIdentity, StaticToken, UpstreamClient
from connectors.transport import RawResponse

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


@dataclass(frozen=True)
class Request:
    """What a :class:`FakeTransport` was asked to send."""

    method: str
    url: yarl.URL  # exactly as sent: ``raw_path_qs`` is on the wire, ``path``/``query`` decoded
    headers: CIMultiDictProxy[str]
    body: bytes | None
    budget: float


def answer(
    status: int = 200,
    *,
    json: Any = None,
    content: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> RawResponse:
    """An agency's answer for a :class:`FakeTransport` handler."""
    if json is not None:
        content = orjson.dumps(json)
    return RawResponse(status, headers or {}, content)


Handler = Callable[[Request], RawResponse]


class FakeTransport:
    """A :class:`connectors.transport.Transport` answering from ``handler``, in memory;
    the handler may also raise what a transport raises (``OSError``, aiohttp errors)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.closed = False

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> RawResponse:
        request = Request(
            method,
            yarl.URL(url, encoded=True),
            CIMultiDictProxy(CIMultiDict(headers)),
            body,
            budget,
        )
        self.requests.append(request)
        return self.handler(request)

    async def aclose(self) -> None:
        self.closed = True


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
