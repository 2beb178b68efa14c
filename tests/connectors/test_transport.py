"""The transports (aiohttp, wire) against real local servers: what reaches the wire."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from connectors import (
    RetryPolicy,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.transport import MAX_ANSWER_BYTES, AiohttpTransport, Transport
from connectors.wire import WireTransport
from tests.connectors.conftest import Serve, make_client

CAP = 1024
NewTransport = Callable[..., Transport]


@pytest.fixture(params=["aiohttp", "wire"])
def new_transport(request: pytest.FixtureRequest) -> NewTransport:
    """Each test below runs over both transports: they must behave the same."""
    kind: Any = AiohttpTransport if request.param == "aiohttp" else WireTransport

    def make(pool_size: int = 4, max_answer_bytes: int = MAX_ANSWER_BYTES) -> Transport:
        made: Transport = kind(pool_size, max_answer_bytes=max_answer_bytes)
        return made

    return make


def app_with(
    path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.Application:
    app = web.Application()
    app.router.add_route("*", path, handler)
    return app


async def test_query_reaches_the_server_exactly_as_encoded(
    serve: Serve, new_transport: NewTransport
) -> None:
    seen: list[web.Request] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"ok": True})

    client = make_client(await serve(app_with("/{tail:.*}", echo)), transport=new_transport())
    params = [
        ("prenoms[]", "ÉLOÏSE"),
        ("nom", "A&B=C/D E+F"),
        ("prenoms[]", "JEAN PAUL"),
        ("code", "~._-"),
    ]
    try:
        assert await client.get_json(["v3", "../admin", "é"], params) == {"ok": True}
    finally:
        await client.aclose()
    request = seen[0]
    assert request.raw_path == (
        "/v3/..%2Fadmin/%C3%A9?prenoms%5B%5D=%C3%89LO%C3%8FSE&nom=A%26B%3DC%2FD%20E%2BF"
        "&prenoms%5B%5D=JEAN%20PAUL&code=~._-"
    )
    assert request.query.getall("prenoms[]") == ["ÉLOÏSE", "JEAN PAUL"]
    assert request.query["nom"] == "A&B=C/D E+F"
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.headers["Accept"] == "application/json"


async def test_session_is_created_on_first_use_and_closed_by_aclose(serve: Serve) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({})

    transport = AiohttpTransport(4)
    client = make_client(await serve(app_with("/x", ok)), transport=transport)
    assert transport.session is None
    await client.get_json(["x"], [])
    session = transport.session
    assert session is not None and not session.closed
    await client.get_json(["x"], [])
    assert transport.session is session  # one session per upstream, reused
    await client.aclose()
    assert session.closed and transport.session is None
    with pytest.raises(RuntimeError):
        await client.get_json(["x"], [])


def test_client_is_built_outside_an_event_loop() -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    client = make_client("http://127.0.0.1:9")
    assert client._transport.session is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("chunked", [False, True])
async def test_answer_size_is_capped(
    serve: Serve, chunked: bool, new_transport: NewTransport
) -> None:
    async def sized(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        body = b'{"a":"' + b"x" * (size - 8) + b'"}'
        if not chunked:
            return web.Response(body=body, content_type="application/json")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 100):
            await response.write(body[start : start + 100])
        await response.write_eof()
        return response

    url = await serve(app_with("/sized", sized))
    client = make_client(url, transport=new_transport(2, max_answer_bytes=CAP))
    try:
        body = await client.get_json(["sized"], [("size", str(CAP))])
        assert len(body["a"]) == CAP - 8
        with pytest.raises(UpstreamInvalid, match="answer too large") as caught:
            await client.get_json(["sized"], [("size", str(CAP + 1))])
        assert caught.value.provider == "TEST"
        # The connection of the refused answer is dropped; the next call still works.
        assert len((await client.get_json(["sized"], [("size", "100")]))["a"]) == 92
    finally:
        await client.aclose()


async def test_decompressed_size_is_capped(serve: Serve, new_transport: NewTransport) -> None:
    async def bomb(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"a":"' + b"x" * (CAP * 8) + b'"}')
        assert len(body) < CAP
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    client = make_client(
        await serve(app_with("/bomb", bomb)), transport=new_transport(2, max_answer_bytes=CAP)
    )
    try:
        with pytest.raises(UpstreamInvalid, match="answer too large"):
            await client.get_json(["bomb"], [])
    finally:
        await client.aclose()


async def test_gzip_answers_are_decoded_and_broken_ones_invalid(
    serve: Serve, new_transport: NewTransport
) -> None:
    async def good(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b'{"ok": true}'),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    async def broken(request: web.Request) -> web.Response:
        return web.Response(
            body=b"not gzip at all",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    app = app_with("/good", good)
    app.router.add_get("/broken", broken)
    client = make_client(
        await serve(app), retry=RetryPolicy(max_retries=0), transport=new_transport()
    )
    try:
        assert await client.get_json(["good"], []) == {"ok": True}
        with pytest.raises(UpstreamInvalid, match="undecodable answer"):
            await client.get_json(["broken"], [])
    finally:
        await client.aclose()


async def test_redirects_are_not_followed_and_cookies_not_kept(
    serve: Serve, new_transport: NewTransport
) -> None:
    hits: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        hits.append("moved")
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    async def cookie(request: web.Request) -> web.Response:
        hits.append("cookie:" + request.headers.get("Cookie", ""))
        response = web.json_response({})
        response.set_cookie("session", "person-a")
        return response

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append("elsewhere")
        return web.json_response({})

    app = app_with("/moved", moved)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/elsewhere", elsewhere)
    client = make_client(await serve(app), transport=new_transport())
    try:
        with pytest.raises(UpstreamInvalid, match="unexpected status 302"):
            await client.get_json(["moved"], [])
        await client.get_json(["cookie"], [])
        await client.get_json(["cookie"], [])
    finally:
        await client.aclose()
    assert hits == ["moved", "cookie:", "cookie:"]


async def test_server_that_sleeps_is_a_timeout(serve: Serve, new_transport: NewTransport) -> None:
    release = asyncio.Event()

    async def asleep(request: web.Request) -> web.Response:
        await release.wait()  # never set before the client gives up
        return web.json_response({})

    client = make_client(
        await serve(app_with("/asleep", asleep)),
        timeout=0.2,
        retry=RetryPolicy(max_retries=0),
        transport=new_transport(),
    )
    try:
        with pytest.raises(UpstreamTimeout, match="no answer in time"):
            await client.get_json(["asleep"], [])
    finally:
        release.set()
        await client.aclose()


async def test_nothing_listening_is_unavailable_and_retried(new_transport: NewTransport) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = make_client(f"http://127.0.0.1:{port}", sleep=sleep, transport=new_transport())
    try:
        with pytest.raises(UpstreamUnavailable, match="connection refused") as caught:
            await client.get_json(["x"], [("nom", "DUPONT")])
    finally:
        await client.aclose()
    assert len(slept) == 2  # two retries after the first refusal
    assert "127.0.0.1" not in str(caught.value) and "DUPONT" not in str(caught.value)
