from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors import (
    CircuitBreaker,
    InvalidInput,
    NotFound,
    RateLimited,
    RetryPolicy,
    UpstreamClient,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.errors import Conflict
from connectors.failures import retry_after
from connectors.transport import RawResponse
from connectors.wire import BadAnswer, ConnectFailed
from tests.connectors.conftest import (
    FakeMonotonic,
    FakeTransport,
    Handler,
    Request,
    Serve,
    answer,
    make_client,
    no_sleep,
)


def refused_connect() -> ConnectFailed:
    failure = ConnectFailed("no connection to the upstream")
    failure.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return failure


ERROR_BODY = b'{"errors":[{"code":"1","title":"t","detail":"secret detail","meta":{}}]}'


def mock(handler: Handler, **kwargs: Any) -> UpstreamClient:
    return make_client("https://agency.example/base/v1", transport=FakeTransport(handler), **kwargs)


async def test_sends_bearer_and_params_to_encoded_path() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> RawResponse:
        seen.append(request)
        return answer(200, json={"data": {}})

    client = mock(handler)
    body = await client.get_json(["v3", "../admin"], [("prenoms[]", "A"), ("prenoms[]", "B")])
    assert body == {"data": {}}
    assert seen[0].url.raw_path_qs == "/base/v1/v3/..%2Fadmin?prenoms%5B%5D=A&prenoms%5B%5D=B"
    assert seen[0].headers["authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInput),
        (401, UpstreamUnavailable),
        (403, UpstreamUnavailable),
        (404, NotFound),
        (409, Conflict),  # an UpstreamInvalid each connector may read more precisely
        (418, UpstreamInvalid),
        (422, InvalidInput),
        (429, RateLimited),
        (500, UpstreamUnavailable),
        (502, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (504, UpstreamTimeout),
    ],
)
async def test_status_mapping(status: int, error: type[Exception]) -> None:
    client = mock(lambda r: answer(status, content=ERROR_BODY))
    with pytest.raises(error) as caught:
        await client.get_json(["x"], [("nom", "DUPONT")])
    message = str(caught.value)
    assert "secret" not in message and "DUPONT" not in message and "agency.example" not in message
    assert caught.value.provider == "TEST"  # type: ignore[attr-defined]


async def test_provider_comes_from_error_body() -> None:
    body = b'{"errors":[{"code":"37003","meta":{"provider":"CNAV"}}]}'
    client = mock(lambda r: answer(404, content=body))
    with pytest.raises(NotFound) as caught:
        await client.get_json(["x"], [])
    assert caught.value.provider == "CNAV"


async def test_bare_404_is_a_wrong_route_not_an_unknown_person() -> None:
    client = mock(lambda r: answer(404, content=b"Not Found"))
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])


async def test_retry_after() -> None:
    client = mock(lambda r: answer(429, headers={"Retry-After": "12"}))
    with pytest.raises(RateLimited) as caught:
        await client.get_json(["x"], [])
    assert caught.value.retry_in == 12.0
    assert retry_after(None) == 60.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 60.0
    assert retry_after("-3") == 60.0


@pytest.mark.parametrize("content", [b"<html>", b"[1, 2]", b"", b'"text"'])
async def test_garbage_bodies_are_upstream_invalid(content: bytes) -> None:
    client = mock(lambda r: answer(200, content=content))
    with pytest.raises(UpstreamInvalid):
        await client.get_json(["x"], [])


@pytest.mark.parametrize(("status", "calls"), [(502, 3), (503, 3), (504, 3), (500, 1), (404, 1)])
async def test_get_retried_only_on_retriable_statuses(status: int, calls: int) -> None:
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        return answer(status, content=ERROR_BODY)

    client = mock(handler)
    with pytest.raises(Exception):  # noqa: B017 - the mapping is tested above
        await client.get_json(["x"], [])
    assert count == calls


async def test_retry_succeeds_and_uses_full_jitter_backoff() -> None:
    statuses = [503, 502, 200]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def handler(request: Request) -> RawResponse:
        return answer(statuses.pop(0), json={"ok": True})

    client = mock(handler, sleep=sleep, draw=lambda: 0.5, retry=RetryPolicy(base_delay=0.1))
    assert await client.get_json(["x"], []) == {"ok": True}
    assert slept == [pytest.approx(0.05), pytest.approx(0.1)]


async def test_connect_errors_are_retried_then_unavailable() -> None:
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        raise ConnectionRefusedError(111, "Connection refused")

    client = mock(handler)
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])
    assert count == 3


async def test_never_retries_past_the_deadline() -> None:
    clock = FakeMonotonic()
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        clock.advance(0.9)  # each attempt eats most of the 1 s budget
        return answer(503)

    client = mock(
        handler, monotonic=clock, deadline=1.0, draw=lambda: 1.0, retry=RetryPolicy(base_delay=0.5)
    )
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])
    assert count == 1


async def test_post_is_never_retried() -> None:
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        return answer(503)

    client = mock(handler)
    with pytest.raises(UpstreamUnavailable):
        await client.post_form(["oauth", "token"], {"a": "b"}, basic=("id", "secret"))
    assert count == 1


async def test_open_circuit_fails_fast() -> None:
    clock = FakeMonotonic()
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        return answer(500)

    client = UpstreamClient(
        "t",
        "https://agency.example",
        provider="TEST",
        timeout=1.0,
        pool_size=1,
        breaker=CircuitBreaker(clock=clock, failure_threshold=2, cooldown=10.0),
        monotonic=clock,
        sleep=no_sleep,
        transport=FakeTransport(handler),
    )
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await client.get_json(["x"], [])
    assert client.circuit == "open"
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.get_json(["x"], [])
    assert count == 2
    assert caught.value.retry_in == pytest.approx(10.0)
    clock.advance(10)
    assert client.circuit == "half_open"


async def test_timeout_against_a_slow_server(serve: Serve) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/slow", slow)
    url = await serve(app)
    client = make_client(url, timeout=0.2, retry=RetryPolicy(max_retries=0))
    try:
        with pytest.raises(UpstreamTimeout):
            await client.get_json(["slow"], [])
    finally:
        release.set()
        await client.aclose()


async def test_connection_refused_over_real_transport() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", retry=RetryPolicy(max_retries=0))
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.get_json(["x"], [])
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("exc", "error", "calls"),
    [
        (ConnectionRefusedError(111, "Connection refused"), UpstreamUnavailable, 3),
        (TimeoutError(), UpstreamTimeout, 3),
        (aiohttp.SocketTimeoutError("read timed out"), UpstreamTimeout, 3),
        (aiohttp.ServerDisconnectedError(), UpstreamUnavailable, 1),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), UpstreamUnavailable, 1),
        (aiohttp.ClientPayloadError("Response payload is not completed"), UpstreamUnavailable, 1),
        (aiohttp.ClientError("anything else"), UpstreamUnavailable, 1),
        # The wire transport's failures (connectors.wire).
        (refused_connect(), UpstreamUnavailable, 3),
        (ConnectFailed("no connection to the upstream"), UpstreamUnavailable, 3),
        (ConnectionResetError("closed before the answer ended"), UpstreamUnavailable, 1),
        (BadAnswer("the answer breaks HTTP/1.1"), UpstreamInvalid, 1),
    ],
)
async def test_transport_failures_mapped_and_retried_only_when_unprocessed(
    exc: Exception, error: type[Exception], calls: int
) -> None:
    count = 0

    def handler(request: Request) -> RawResponse:
        nonlocal count
        count += 1
        raise exc

    client = mock(handler)
    with pytest.raises(error) as caught:
        await client.get_json(["x"], [("nom", "DUPONT")])
    assert count == calls
    message = str(caught.value)
    assert "DUPONT" not in message and "agency.example" not in message
    assert client.breaker.state == "closed"  # 5 failures trip it; here at most 3


async def test_post_form_sends_encoded_form_and_basic_credentials() -> None:
    transport = FakeTransport(lambda r: answer(200, json={"ok": True}))
    client = make_client("https://agency.example", token=None, transport=transport)
    await client.post_form(["oauth", "token"], {"grant_type": "x y&z"}, basic=("id", "s"))
    request = transport.requests[0]
    assert request.method == "POST" and request.url.raw_path_qs == "/oauth/token"
    assert request.body == b"grant_type=x%20y%26z"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic aWQ6cw=="  # base64("id:s")
    await client.aclose()
    assert transport.closed
