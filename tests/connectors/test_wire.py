"""The lean HTTP/1.1 transport against real local servers: pooling, framing, decoding, failures.

Edge cases need a server that misbehaves on purpose (answers cut, never sent, ``Connection:
close`` without closing), so most tests run a small asyncio server that writes raw bytes and
counts the connections it accepted.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors import (
    CircuitBreaker,
    ClientCredentials,
    RetryPolicy,
    UpstreamClient,
    UpstreamInvalid,
    UpstreamUnavailable,
)
from connectors.transport import AiohttpTransport, AnswerTooLarge, Transport
from connectors.wire import BadAnswer, ConnectFailed, WireTransport
from sandbox import RunningSandbox, SandboxConfig, start_in_thread
from tests.connectors.conftest import Serve, make_client
from tests.sandbox.conftest import OURS, persons, query

CAP = 1024
JSON = {"Accept": "application/json"}

# What a raw handler gets (method, path, headers lower-cased, body) and writes back.
Exchange = tuple[str, str, dict[str, str], bytes]
Answer = Callable[[Exchange, asyncio.StreamWriter], Awaitable[bool]]


class RawServer:
    """A real HTTP/1.1 server writing whatever ``answer`` writes; counts its connections.
    ``answer`` returns False to close the connection after its answer."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[Exchange] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                line, *fields = head.decode("latin-1").split("\r\n")
                method, path, _ = line.split(" ")
                headers = {}
                for field in fields:
                    if field:
                        name, _, value = field.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                exchange = (method, path, headers, body)
                self.requests.append(exchange)
                if not await self.answer(exchange, writer):
                    return
        finally:
            self.open -= 1
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


Raw = Callable[[Answer], Awaitable[tuple["RawServer", str]]]


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    servers: list[RawServer] = []

    async def start(answer: Answer) -> tuple[RawServer, str]:
        server = RawServer(answer)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        await server.close()


def ok(body: bytes, *, status: int = 200, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def echo(status: int = 200) -> Answer:
    async def answer(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        method, path, _, body = exchange
        writer.write(ok(method.encode() + b" " + path.encode() + b" " + body, status=status))
        await writer.drain()
        return True

    return answer


async def test_sequential_calls_share_one_connection(raw: Raw) -> None:
    server, url = await raw(echo())
    transport = WireTransport(4)
    try:
        for n in range(5):
            answer = await transport.send("GET", f"{url}/v3/x?n={n}", JSON, None, 5.0)
            assert answer.status == 200 and answer.content == f"GET /v3/x?n={n} ".encode()
    finally:
        await transport.aclose()
    assert server.connections == 1
    _, _, headers, _ = server.requests[0]
    assert headers["host"] == url.removeprefix("http://")
    assert headers["accept"] == "application/json"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert "content-length" not in headers  # a GET without a body says nothing of one


async def test_pool_limit_holds_under_fifty_concurrent_calls(raw: Raw) -> None:
    async def slow(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.005)  # keeps the connections busy long enough to overlap
        return await echo()(exchange, writer)

    server, url = await raw(slow)
    transport = WireTransport(4)
    try:
        answers = await asyncio.gather(
            *(transport.send("GET", f"{url}/n/{n}", {}, None, 30.0) for n in range(50))
        )
    finally:
        await transport.aclose()
    assert [a.content for a in answers] == [f"GET /n/{n} ".encode() for n in range(50)]
    assert server.most_open <= 4 and server.connections <= 4
    assert len(server.requests) == 50


async def test_the_budget_covers_the_wait_for_a_connection(raw: Raw) -> None:
    release = asyncio.Event()

    async def held(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        if exchange[1] == "/hold":
            await release.wait()
        return await echo()(exchange, writer)

    server, url = await raw(held)
    transport = WireTransport(1)
    try:
        busy = asyncio.create_task(transport.send("GET", f"{url}/hold", {}, None, 30.0))
        await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            await transport.send("GET", f"{url}/waits", {}, None, 0.1)
        release.set()
        assert (await busy).content == b"GET /hold "
        assert (await transport.send("GET", f"{url}/after", {}, None, 5.0)).status == 200
    finally:
        release.set()
        await transport.aclose()
    assert server.connections == 1
    assert [r[1] for r in server.requests] == ["/hold", "/after"]


async def test_methods_with_bodies_and_error_statuses_as_is(raw: Raw) -> None:
    server, url = await raw(echo(status=503))
    transport = WireTransport(2)
    try:
        for method, body in (
            ("GET", b"a"),
            ("POST", b'{"x":1}'),
            ("DELETE", b"zz"),
            ("POST", None),
        ):
            answer = await transport.send(method, f"{url}/m", {"X-Key": "k1"}, body, 5.0)
            assert answer.status == 503
            assert answer.content == f"{method} /m ".encode() + (body or b"")
            assert answer.headers["content-type"] == "application/json"  # case-insensitive
    finally:
        await transport.aclose()
    lengths = [r[2].get("content-length") for r in server.requests]
    assert lengths == ["1", "7", "2", "0"]
    assert all(r[2]["x-key"] == "k1" for r in server.requests)
    assert server.connections == 1


async def test_chunked_answer_is_joined_and_capped(raw: Raw) -> None:
    async def chunked(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        size = int(exchange[1].rpartition("/")[2])
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, size, 100):
            part = b"x" * min(100, size - start)
            writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    server, url = await raw(chunked)
    transport = WireTransport(2, max_answer_bytes=CAP)
    try:
        assert (await transport.send("GET", f"{url}/c/{CAP}", {}, None, 5.0)).content == b"x" * CAP
        with pytest.raises(AnswerTooLarge):
            await transport.send("GET", f"{url}/c/{CAP + 1}", {}, None, 5.0)
        assert len((await transport.send("GET", f"{url}/c/250", {}, None, 5.0)).content) == 250
    finally:
        await transport.aclose()
    assert server.connections == 2  # the refused answer's connection was dropped


async def test_declared_length_past_the_cap_is_refused_before_reading(raw: Raw) -> None:
    async def huge(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 10)
        await writer.drain()
        return True

    _, url = await raw(huge)
    transport = WireTransport(2, max_answer_bytes=CAP)
    try:
        with pytest.raises(AnswerTooLarge):
            await transport.send("GET", f"{url}/huge", {}, None, 5.0)
    finally:
        await transport.aclose()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),
    ],
)
async def test_compressed_answers_are_decoded_and_capped_decoded(
    serve: Serve, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    async def packed(request: web.Request) -> web.Response:
        body = b'{"a":"' + b"x" * int(request.query["n"]) + b'"}'
        return web.Response(body=compress(body), headers={"Content-Encoding": encoding})

    app = web.Application()
    app.router.add_get("/p", packed)
    url = await serve(app)
    transport = WireTransport(2, max_answer_bytes=CAP)
    try:
        answer = await transport.send("GET", f"{url}/p?n=100", {}, None, 5.0)
        assert answer.content == b'{"a":"' + b"x" * 100 + b'"}'
        with pytest.raises(AnswerTooLarge):  # a few bytes on the wire, 8 KiB decoded
            await transport.send("GET", f"{url}/p?n={CAP * 8}", {}, None, 5.0)
    finally:
        await transport.aclose()


async def test_broken_or_garbled_answers_are_undecodable(raw: Raw) -> None:
    async def broken(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        path = exchange[1]
        if path == "/gzip":
            writer.write(ok(b"not gzip at all", extra="Content-Encoding: gzip\r\n"))
        elif path == "/cut-gzip":
            writer.write(ok(gzip.compress(b"x" * 100)[:20], extra="Content-Encoding: gzip\r\n"))
        elif path == "/br":
            writer.write(ok(b"xx", extra="Content-Encoding: br\r\n"))
        else:
            writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        return True

    _, url = await raw(broken)
    client = make_client(url, retry=RetryPolicy(max_retries=0), transport=WireTransport(2))
    try:
        for path in ("gzip", "cut-gzip", "br", "garbage"):
            with pytest.raises(UpstreamInvalid, match="undecodable answer") as caught:
                await client.get_json([path], [])
            assert isinstance(caught.value.__cause__, BadAnswer)
    finally:
        await client.aclose()


async def test_a_server_that_never_answers_is_a_timeout(raw: Raw) -> None:
    release = asyncio.Event()

    async def mute(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        return False

    server, url = await raw(mute)
    transport = WireTransport(1)
    try:
        with pytest.raises(TimeoutError):
            await transport.send("GET", f"{url}/mute", {}, None, 0.2)
        # The timed-out connection is not reused: the next call opens another.
        with pytest.raises(TimeoutError):
            await transport.send("GET", f"{url}/mute", {}, None, 0.2)
    finally:
        release.set()
        await transport.aclose()
    assert server.connections == 2


async def test_an_answer_that_stalls_mid_body_is_a_timeout(raw: Raw) -> None:
    release = asyncio.Event()

    async def stall(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"a":"xx')
        await writer.drain()
        await release.wait()
        return False

    server, url = await raw(stall)
    transport = WireTransport(1)
    try:
        with pytest.raises(TimeoutError):
            await transport.send("GET", f"{url}/stall", {}, None, 0.2)
        with pytest.raises(TimeoutError):
            await transport.send("GET", f"{url}/stall", {}, None, 0.2)
    finally:
        release.set()
        await transport.aclose()
    assert server.connections == 2  # the half-read connection was never reused


async def test_a_call_outlasting_an_earlier_calls_deadline_is_not_cut_short(raw: Raw) -> None:
    """Each call's deadline ends with its answer: the next call on the same connection,
    still waiting when that deadline passes, runs on its own budget."""

    async def slow_second(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        if exchange[1] == "/second":
            await asyncio.sleep(0.4)
        return await echo()(exchange, writer)

    server, url = await raw(slow_second)
    transport = WireTransport(1)
    try:
        assert (await transport.send("GET", f"{url}/first", {}, None, 0.2)).status == 200
        answer = await transport.send("GET", f"{url}/second", {}, None, 5.0)
        assert answer.status == 200 and answer.content == b"GET /second "
    finally:
        await transport.aclose()
    assert server.connections == 1


async def test_refused_connection_names_its_cause_and_is_retried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = WireTransport(1)
    try:
        with pytest.raises(ConnectFailed) as caught:
            await transport.send("GET", f"http://127.0.0.1:{port}/x", {}, None, 5.0)
        assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    finally:
        await transport.aclose()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = make_client(f"http://127.0.0.1:{port}", sleep=sleep, transport=WireTransport(1))
    try:
        with pytest.raises(UpstreamUnavailable, match="connection refused"):
            await client.get_json(["x"], [("nom", "DUPONT")])
    finally:
        await client.aclose()
    assert len(slept) == 2


async def test_a_disconnect_mid_body_is_a_connection_error_not_retried(raw: Raw) -> None:
    async def cut(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"a":"xx')
        await writer.drain()
        return False

    server, url = await raw(cut)
    transport = WireTransport(1)
    try:
        with pytest.raises(ConnectionError) as caught:
            await transport.send("GET", f"{url}/cut", {}, None, 5.0)
        assert not isinstance(caught.value, ConnectFailed)
    finally:
        await transport.aclose()
    client = make_client(url, transport=WireTransport(1))
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.get_json(["cut"], [])
    finally:
        await client.aclose()
    assert len(server.requests) == 2  # one each: the broken answer was not asked again


async def test_connection_close_is_honoured(raw: Raw) -> None:
    async def closing(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(b"{}", extra="Connection: close\r\n"))
        await writer.drain()
        return True  # says close but keeps it open: the client must not reuse it

    server, url = await raw(closing)
    transport = WireTransport(2)
    try:
        for _ in range(3):
            assert (await transport.send("GET", f"{url}/c", {}, None, 5.0)).content == b"{}"
    finally:
        await transport.aclose()
    assert server.connections == 3


async def test_an_answer_ended_by_closing_the_connection(raw: Raw) -> None:
    async def until_close(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b'{"whole":true}')
        await writer.drain()
        return False

    server, url = await raw(until_close)
    transport = WireTransport(1)
    try:
        for _ in range(2):
            answer = await transport.send("GET", f"{url}/e", {}, None, 5.0)
            assert answer.content == b'{"whole":true}'
    finally:
        await transport.aclose()
    assert server.connections == 2


async def test_a_kept_connection_the_server_closed_is_replaced(raw: Raw) -> None:
    async def once(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        await echo()(exchange, writer)
        return False  # closes after each answer without saying so

    server, url = await raw(once)
    transport = WireTransport(1)
    try:
        for n in range(3):  # resent on a new connection when the close arrives late
            assert (await transport.send("GET", f"{url}/{n}", {}, None, 5.0)).status == 200
        pool = next(iter(transport._routes.values()))[0]
        # The client learns of the close on its loop; no event tells it to a test.
        while not all(conn.closed for conn in pool._idle):  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        # A POST is not resent; it goes out on a new connection when the close arrived first.
        assert (await transport.send("POST", f"{url}/p", {}, b"{}", 5.0)).status == 200
    finally:
        await transport.aclose()
    assert server.connections == 4 and len(server.requests) == 4


async def test_a_cancelled_call_leaves_the_pool_usable(raw: Raw) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def held(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        if exchange[1] == "/hold":
            started.set()
            await release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nlate")
            await writer.drain()
            return False
        return await echo()(exchange, writer)

    server, url = await raw(held)
    transport = WireTransport(1)
    try:
        call = asyncio.create_task(transport.send("GET", f"{url}/hold", {}, None, 30.0))
        await started.wait()
        waiting = asyncio.create_task(transport.send("GET", f"{url}/queued", {}, None, 30.0))
        await asyncio.sleep(0)
        waiting.cancel()
        call.cancel()
        for task in (call, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        release.set()
        answer = await transport.send("GET", f"{url}/next", {}, None, 5.0)
        assert answer.content == b"GET /next "
    finally:
        release.set()
        await transport.aclose()
    assert [r[1] for r in server.requests] == ["/hold", "/next"]
    assert server.connections == 2


async def test_line_breaks_in_headers_are_refused_before_sending(raw: Raw) -> None:
    server, url = await raw(echo())
    transport = WireTransport(1)
    try:
        with pytest.raises(ValueError, match="line break"):
            await transport.send("GET", f"{url}/x", {"X-A": "a\r\nInjected: 1"}, None, 5.0)
    finally:
        await transport.aclose()
    assert server.connections == 0


async def test_closed_transport_refuses_calls() -> None:
    transport = WireTransport(1)
    await transport.aclose()
    with pytest.raises(RuntimeError):
        await transport.send("GET", "http://127.0.0.1:9/x", {}, None, 1.0)


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_verifies_the_server_and_sends_its_name(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,func-returns-value]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ok(b'{"tls":true}'))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
    url = f"https://localhost:{server.sockets[0].getsockname()[1]}/t"
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        with pytest.raises(ConnectFailed) as caught:  # the system's CAs do not know it
            await WireTransport(1).send("GET", url, {}, None, 5.0)
        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        transport = WireTransport(1, tls=trusting)
        try:
            answer = await transport.send("GET", url, {}, None, 5.0)
        finally:
            await transport.aclose()
        assert answer.content == b'{"tls":true}'
        assert "localhost" in names
    finally:
        server.close()
        await server.wait_closed()


def test_runs_on_uvloop() -> None:
    """The gateway serves on uvloop, whose transports are not asyncio's classes."""
    uvloop = pytest.importorskip("uvloop")
    release = asyncio.Event()

    async def answer(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        if exchange[1] == "/mute":
            await release.wait()
            return False
        return await echo()(exchange, writer)

    async def main() -> tuple[list[bytes], int]:
        server = RawServer(answer)
        url = await server.start()
        transport = WireTransport(2)
        try:
            got = [
                (await transport.send("GET", f"{url}/{n}", {}, None, 5.0)).content for n in (1, 2)
            ]
            with pytest.raises(TimeoutError):
                await transport.send("GET", f"{url}/mute", {}, None, 0.1)
            got.append((await transport.send("POST", f"{url}/3", {}, b"b", 5.0)).content)
        finally:
            release.set()
            await transport.aclose()
            await server.close()
        return got, server.connections

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        got, connections = runner.run(main())
    assert got == [b"GET /1 ", b"GET /2 ", b"POST /3 b"]
    assert connections == 2  # the timed-out one was dropped, the first one kept


async def test_endless_headers_are_capped(raw: Raw) -> None:
    async def endless(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(100):
            writer.write(f"X-Filler-{n}: {'y' * 50}\r\n".encode())
        writer.write(b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        return True

    _, url = await raw(endless)
    transport = WireTransport(1, max_answer_bytes=CAP)
    try:
        with pytest.raises(AnswerTooLarge):
            await transport.send("GET", f"{url}/h", {}, None, 5.0)
    finally:
        await transport.aclose()


@pytest.fixture(scope="module")
def agencies() -> Iterator[tuple[RunningSandbox, list[dict[str, object]]]]:
    with start_in_thread(SandboxConfig(size=200)) as running, httpx.Client() as http:
        yield running, persons(http, running, "adult", 3)


async def test_the_sandbox_agencies_answer_the_same_over_both_transports(
    agencies: tuple[RunningSandbox, list[dict[str, object]]],
) -> None:
    sandbox, adults = agencies

    async def read(transport: Transport) -> list[dict[str, object]]:
        got = []
        for agency, path in OURS.items():
            client = UpstreamClient(
                agency,
                sandbox.urls[agency],
                provider=agency,
                timeout=5.0,
                pool_size=2,
                breaker=CircuitBreaker(clock=time.monotonic),
                transport=transport,
            )
            # The token comes from a form POST over the same transport.
            client.auth = ClientCredentials(client, sandbox.client_id, sandbox.client_secret)
            for adult in adults:
                params = query(adult["personne"])  # type: ignore[arg-type]
                pairs = [
                    (k, str(item))
                    for k, v in params.items()
                    for item in (v if isinstance(v, list) else [v])
                ]
                got.append(await client.get_json(path.strip("/").split("/"), pairs))
        await transport.aclose()
        return got

    over_wire = await read(WireTransport(2))
    assert len(over_wire) == len(OURS) * len(adults)
    assert over_wire == await read(AiohttpTransport(2))


async def test_closing_the_transport_refuses_the_waiting_calls(raw: Raw) -> None:
    release = asyncio.Event()

    async def held(exchange: Exchange, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        return await echo()(exchange, writer)

    server, url = await raw(held)
    transport = WireTransport(1)
    busy = asyncio.create_task(transport.send("GET", f"{url}/busy", {}, None, 30.0))
    waiting = asyncio.create_task(transport.send("GET", f"{url}/waiting", {}, None, 30.0))
    await asyncio.sleep(0)
    await transport.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await waiting
    release.set()
    assert (await busy).content == b"GET /busy "  # a call under way ends normally
    assert [r[1] for r in server.requests] == ["/busy"]
