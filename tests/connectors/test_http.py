from __future__ import annotations

import asyncio
import socket

import httpx
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
from connectors.failures import retry_after
from tests.connectors.conftest import FakeMonotonic, Serve, make_client, no_sleep

ERROR_BODY = b'{"errors":[{"code":"1","title":"t","detail":"secret detail","meta":{}}]}'


def mock(handler: object, **kwargs: object) -> UpstreamClient:
    return make_client(
        "https://agency.example/base/v1",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        **kwargs,
    )


def test_url_keeps_base_path_and_encodes_segments() -> None:
    client = mock(lambda r: httpx.Response(200))
    assert client.url(["a b", "x/../y", "é?#"]) == (
        "https://agency.example/base/v1/a%20b/x%2F..%2Fy/%C3%A9%3F%23"
    )


@pytest.mark.parametrize("segment", ["", ".", ".."])
def test_url_rejects_dot_and_empty_segments(segment: str) -> None:
    client = mock(lambda r: httpx.Response(200))
    with pytest.raises(InvalidInput):
        client.url(["ok", segment])


def test_base_url_must_be_plain_http() -> None:
    with pytest.raises(ValueError):
        make_client("ftp://agency.example/")
    with pytest.raises(ValueError):
        make_client("https://agency.example/?q=1")


async def test_sends_bearer_and_params_to_encoded_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {}})

    client = mock(handler)
    body = await client.get_json(["v3", "../admin"], [("prenoms[]", "A"), ("prenoms[]", "B")])
    assert body == {"data": {}}
    assert seen[0].url.raw_path == b"/base/v1/v3/..%2Fadmin?prenoms%5B%5D=A&prenoms%5B%5D=B"
    assert seen[0].headers["authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidInput),
        (401, UpstreamUnavailable),
        (403, UpstreamUnavailable),
        (404, NotFound),
        (409, UpstreamInvalid),
        (422, InvalidInput),
        (429, RateLimited),
        (500, UpstreamUnavailable),
        (502, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (504, UpstreamTimeout),
    ],
)
async def test_status_mapping(status: int, error: type[Exception]) -> None:
    client = mock(lambda r: httpx.Response(status, content=ERROR_BODY))
    with pytest.raises(error) as caught:
        await client.get_json(["x"], [("nom", "DUPONT")])
    message = str(caught.value)
    assert "secret" not in message and "DUPONT" not in message and "agency.example" not in message
    assert caught.value.provider == "TEST"  # type: ignore[attr-defined]


async def test_provider_comes_from_error_body() -> None:
    body = b'{"errors":[{"code":"37003","meta":{"provider":"CNAV"}}]}'
    client = mock(lambda r: httpx.Response(404, content=body))
    with pytest.raises(NotFound) as caught:
        await client.get_json(["x"], [])
    assert caught.value.provider == "CNAV"


async def test_bare_404_is_a_wrong_route_not_an_unknown_person() -> None:
    client = mock(lambda r: httpx.Response(404, text="Not Found"))
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])


async def test_retry_after() -> None:
    client = mock(lambda r: httpx.Response(429, headers={"Retry-After": "12"}))
    with pytest.raises(RateLimited) as caught:
        await client.get_json(["x"], [])
    assert caught.value.retry_in == 12.0
    assert retry_after(None) == 60.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 60.0
    assert retry_after("-3") == 60.0


@pytest.mark.parametrize("content", [b"<html>", b"[1, 2]", b"", b'"text"'])
async def test_garbage_bodies_are_upstream_invalid(content: bytes) -> None:
    client = mock(lambda r: httpx.Response(200, content=content))
    with pytest.raises(UpstreamInvalid):
        await client.get_json(["x"], [])


@pytest.mark.parametrize(("status", "calls"), [(502, 3), (503, 3), (504, 3), (500, 1), (404, 1)])
async def test_get_retried_only_on_retriable_statuses(status: int, calls: int) -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(status, content=ERROR_BODY)

    client = mock(handler)
    with pytest.raises(Exception):  # noqa: B017 - the mapping is tested above
        await client.get_json(["x"], [])
    assert count == calls


async def test_retry_succeeds_and_uses_full_jitter_backoff() -> None:
    statuses = [503, 502, 200]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses.pop(0), json={"ok": True})

    client = mock(handler, sleep=sleep, draw=lambda: 0.5, retry=RetryPolicy(base_delay=0.1))
    assert await client.get_json(["x"], []) == {"ok": True}
    assert slept == [pytest.approx(0.05), pytest.approx(0.1)]


async def test_connect_errors_are_retried_then_unavailable() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        raise httpx.ConnectError("refused", request=request)

    client = mock(handler)
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])
    assert count == 3


async def test_never_retries_past_the_deadline() -> None:
    clock = FakeMonotonic()
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        clock.advance(0.9)  # each attempt eats most of the 1 s budget
        return httpx.Response(503)

    client = mock(
        handler, monotonic=clock, deadline=1.0, draw=lambda: 1.0, retry=RetryPolicy(base_delay=0.5)
    )
    with pytest.raises(UpstreamUnavailable):
        await client.get_json(["x"], [])
    assert count == 1


async def test_post_is_never_retried() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(503)

    client = mock(handler)
    with pytest.raises(UpstreamUnavailable):
        await client.post_form(["oauth", "token"], {"a": "b"}, basic=("id", "secret"))
    assert count == 1


async def test_open_circuit_fails_fast() -> None:
    clock = FakeMonotonic()
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(500)

    client = UpstreamClient(
        "t",
        "https://agency.example",
        provider="TEST",
        timeout=1.0,
        pool_size=1,
        breaker=CircuitBreaker(clock=clock, failure_threshold=2, cooldown=10.0),
        monotonic=clock,
        sleep=no_sleep,
        transport=httpx.MockTransport(handler),
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
