"""A lean HTTP/1.1 client transport: asyncio protocols, httptools' parser, a keep-alive pool.

:class:`WireTransport` does what :class:`connectors.transport.AiohttpTransport` does for an
agency call (one request out, one whole answer in, no redirects, no cookies) with much less
machinery per request: the request head is one formatted string, the answer is parsed by
llhttp (through httptools) straight into a header multidict and a list of body chunks.

Connections are pooled per origin (scheme, host, port), at most ``pool_size`` each; callers
wait their turn in arrival order when all are busy, and the call's budget covers that wait.
Idle connections are reused last-in first-out, so a quiet upstream keeps few warm ones; a
connection is dropped when the server closes it or says ``Connection: close``, when its answer
was not read whole (refused, failed, timed out, cancelled) and when it stayed idle longer than
:data:`KEEPALIVE` seconds. A request that finds a reused connection closed before any byte of
the answer (the server timed it out as we sent) is sent again on a new one when its method is
idempotent (RFC 9110 §9.2.2), as browsers do.

Failures: ``TimeoutError`` when the budget elapses; :class:`ConnectFailed` (a
``ConnectionError`` whose cause is the socket's error, ``ConnectionRefusedError`` when
refused) when no connection could be made; ``ConnectionResetError`` when the upstream hangs
up mid-answer; :class:`AnswerTooLarge` past the size cap, on the wire or decoded;
:class:`BadAnswer` for an answer that breaks HTTP/1.1 or does not decode. Messages never
carry the URL, which names persons.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)
from multidict import CIMultiDict

from connectors.transport import MAX_ANSWER_BYTES, AnswerTooLarge, RawResponse

# Seconds an idle connection is kept (aiohttp's default): servers close theirs after a few
# seconds too, and the idempotent resend covers the race when they do first.
KEEPALIVE = 15.0
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NO_BODY = frozenset({204, 304})


class ConnectFailed(ConnectionError):
    """No connection could be made (refused, unreachable, name unknown, TLS handshake)."""


class BadAnswer(Exception):
    """The answer breaks HTTP/1.1 or its body does not decode."""


class _Connection(asyncio.Protocol):
    """One connection and the answer being read on it; one request at a time."""

    def __init__(self, max_bytes: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._max = max_bytes
        self._parser = HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._head = False
        self._received = False
        self._complete = False
        self._until_eof = False
        self.keep_alive = False
        self.status = 0
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.chunks: list[bytes] = []
        self._size = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._until_eof and exc is None:
            # An answer with neither a length nor chunks ends with its connection.
            self._complete = True
            self.keep_alive = False
            waiter.set_result(None)
            return
        lost = ConnectionResetError("the upstream closed the connection before the answer ended")
        lost.__cause__ = exc
        waiter.set_exception(lost)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._complete:
            self.close()  # bytes nobody asked for: the connection is out of step
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except HttpParserCallbackError as exc:
            cause = exc.__context__
            self._fail(cause if isinstance(cause, AnswerTooLarge | BadAnswer) else BadAnswer())
        except (HttpParserError, HttpParserUpgrade) as exc:
            failure = BadAnswer("the answer breaks HTTP/1.1")
            failure.__cause__ = exc
            self._fail(failure)

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._complete:
            raise BadAnswer("more than one answer to one request")

    def on_header(self, name: bytes, value: bytes) -> None:
        # Headers count towards the cap too: endless ones must not fill memory either.
        self._size += len(name) + len(value)
        if self._size > self._max:
            raise AnswerTooLarge(self._max)
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        status = self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        self._size = 0
        if status < 200:
            return
        length = self.headers.get("content-length")
        if length is not None:
            if length.isdigit() and int(length) > self._max:
                raise AnswerTooLarge(self._max)
        elif "transfer-encoding" not in self.headers and status not in _NO_BODY:
            self._until_eof = not self._head
        if self._head:
            # httptools cannot be told the answer to a HEAD has no body: end it here, and
            # never reuse the connection, whose parser now expects one.
            self.keep_alive = False
            self._finish()

    def on_body(self, body: bytes) -> None:
        if self._complete:  # the body of an answer to HEAD: not ours to keep
            return
        self._size += len(body)
        if self._size > self._max:
            raise AnswerTooLarge(self._max)
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue…): the real one follows
            self.headers = CIMultiDict()
            return
        self._until_eof = False
        self._finish()

    # the exchange

    async def exchange(self, request: bytes, head: bool) -> None:
        """Send ``request`` and wait until its whole answer is read."""
        assert self.transport is not None
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._head = head
        self._received = self._complete = self._until_eof = False
        self.status = self._size = 0
        self.headers = CIMultiDict()
        self.chunks = []
        if self.closed or self.transport.is_closing():
            raise ConnectionResetError("the upstream closed the connection")
        self.transport.write(request)
        try:
            await waiter
        finally:
            self._waiter = None

    @property
    def answered(self) -> bool:
        """Whether any byte of the current answer arrived."""
        return self._received

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _finish(self) -> None:
        self._complete = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.close()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class _Pool:
    """The connections to one origin: at most ``size``, waiters served first come first."""

    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None, size: int, max_bytes: int
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._size = size
        self._max = max_bytes
        self._count = 0  # connections open or being opened
        self._idle: list[_Connection] = []
        self._waiters: deque[asyncio.Future[_Connection | None]] = deque()
        self._closed = False

    async def acquire(self) -> tuple[_Connection, bool]:
        """A connection and whether it served before."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE:
                return conn, True
            conn.close()
            self._count -= 1
        if self._count < self._size:
            self._count += 1
        else:
            waiter: asyncio.Future[_Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._hand(waiter.result())  # given to us as we gave up: pass it on
                else:
                    self._waiters.remove(waiter)
                raise
            if handed is not None:
                if not handed.closed:
                    return handed, True
                handed.close()  # closed by the server since: its place is ours
            # None: a connection was dropped and its place is ours.
        try:
            return await self._connect(loop), False
        except BaseException:
            self._hand(None)
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        try:
            _, conn = await loop.create_connection(
                lambda: _Connection(self._max),
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls is not None else None,
            )
        except OSError as exc:
            raise ConnectFailed("no connection to the upstream") from exc
        return conn

    def release(self, conn: _Connection) -> None:
        """Take back a connection after a whole answer: kept when the server allows it."""
        if conn.closed or not conn.keep_alive or self._closed:
            self.discard(conn)
            return
        conn.idle_since = asyncio.get_running_loop().time()
        self._hand(conn)

    def discard(self, conn: _Connection) -> None:
        conn.close()
        self._hand(None)

    def _hand(self, conn: _Connection | None) -> None:
        """Give a connection, or the place of one dropped, to the first waiter still waiting."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._count -= 1
        else:
            self._idle.append(conn)

    def close(self) -> None:
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._count -= len(self._idle)
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the upstream transport is closed"))


class WireTransport:
    """A :class:`connectors.transport.Transport` over pooled HTTP/1.1 connections."""

    def __init__(
        self,
        pool_size: int,
        *,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls`` verifies https upstreams: the system's CAs unless given (a private CA)."""
        if pool_size < 1 or max_answer_bytes < 1:
            raise ValueError("pool size and answer cap must be positive")
        self._pool_size = pool_size
        self._max = max_answer_bytes
        # origin ("http://host:port") → its pool and its Host header
        self._routes: dict[str, tuple[_Pool, str]] = {}
        self._tls = tls
        self._closed = False

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> RawResponse:
        if self._closed:
            raise RuntimeError("the upstream transport is closed")
        start = url.find("/", url.find("://") + 3)
        query = url.find("?")
        if start < 0 or 0 <= query < start:
            start = query if query >= 0 else len(url)
        origin, target = url[:start], url[start:]
        route = self._routes.get(origin) or self._route(origin)
        pool = route[0]
        if not target.startswith("/"):
            target = "/" + target  # "" or "?query": the path is the root
        request = self._request(method, target, route[1], headers, body)
        head = method == "HEAD"
        async with asyncio.timeout(budget):
            while True:
                conn, reused = await pool.acquire()
                try:
                    await conn.exchange(request, head)
                except ConnectionError:
                    pool.discard(conn)
                    if reused and not conn.answered and method in IDEMPOTENT:
                        continue  # the server closed it as we sent: a new connection
                    raise
                except BaseException:
                    pool.discard(conn)  # half-read, failed or cancelled: never reused
                    raise
                break
        status, answer, chunks = conn.status, conn.headers, conn.chunks
        pool.release(conn)  # the next call on it starts afresh: what it read is taken above
        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        encoding = answer.get("content-encoding")
        if encoding is not None and content:
            content = self._decode(encoding.strip().lower(), content)
        return RawResponse(status, answer, content)

    def _route(self, origin: str) -> tuple[_Pool, str]:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the upstream URL must be http(s) with a host")
        tls = None
        if parts.scheme == "https":
            tls = self._tls = self._tls or ssl.create_default_context()
        port = parts.port or (443 if tls else 80)
        pool = _Pool(parts.hostname, port, tls, self._pool_size, self._max)
        host = parts.netloc.rpartition("@")[2]
        self._routes[origin] = route = (pool, host)
        return route

    @staticmethod
    def _request(
        method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        lines = [f"{method} {target} HTTP/1.1\r\n"]
        seen = set()
        for name, value in headers.items():
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise ValueError("a header carries a line break")
            seen.add(name.lower())
            lines.append(f"{name}: {value}\r\n")
        if "host" not in seen:
            lines.append(f"Host: {host}\r\n")
        if "content-length" in seen:
            pass
        elif body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body) if body else 0}\r\n")
        if "accept-encoding" not in seen:
            lines.append("Accept-Encoding: gzip, deflate\r\n")
        lines.append("\r\n")
        if " " in target or "\r" in target or "\n" in target:
            raise ValueError("the request target is not percent-encoded")
        head = "".join(lines).encode("utf-8")
        return head + body if body else head

    def _decode(self, encoding: str, content: bytes) -> bytes:
        if encoding == "gzip" or encoding == "x-gzip":
            return self._inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), content)
        if encoding == "deflate":
            try:
                return self._inflate(zlib.decompressobj(), content)
            except BadAnswer:
                # Some servers send a raw deflate stream, without the zlib wrapper RFC 9110 asks.
                return self._inflate(zlib.decompressobj(-zlib.MAX_WBITS), content)
        if encoding == "identity":
            return content
        raise BadAnswer("an answer in an encoding not asked for")

    def _inflate(self, inflater: zlib._Decompress, content: bytes) -> bytes:
        try:
            # One byte past the cap tells a too large answer without inflating the rest.
            out = inflater.decompress(content, self._max + 1)
        except zlib.error as exc:
            raise BadAnswer("the answer does not decode") from exc
        if len(out) > self._max:
            raise AnswerTooLarge(self._max)
        if not inflater.eof:
            raise BadAnswer("the answer's compressed stream is cut")
        return out

    async def aclose(self) -> None:
        self._closed = True
        routes, self._routes = self._routes, {}
        for pool, _ in routes.values():
            pool.close()
