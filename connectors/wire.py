"""A lean HTTP/1.1 client transport: asyncio protocols, httptools' parser, a keep-alive pool.

:class:`WireTransport` does what :class:`connectors.transport.AiohttpTransport` does for an
agency call (one request out, one whole answer in, no redirects, no cookies) with much less
machinery per request: the request head is one formatted string, the answer is parsed by
llhttp straight into a header multidict and a list of body chunks (:mod:`connectors.pool`).

Connections are pooled per origin (scheme, host, port), at most ``pool_size`` each, and the
call's budget covers the wait for one. A request that finds a reused connection closed before
any byte of the answer (the server timed it out as we sent) is sent again on a new one when
its method is idempotent (RFC 9110 §9.2.2), as browsers do.

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
from collections.abc import Mapping
from urllib.parse import urlsplit

from connectors.pool import BadAnswer, ConnectFailed, Pool
from connectors.transport import MAX_ANSWER_BYTES, AnswerTooLarge, RawResponse

__all__ = ["IDEMPOTENT", "BadAnswer", "ConnectFailed", "WireTransport"]

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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
        self._routes: dict[str, tuple[Pool, str]] = {}
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
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + budget
        while True:
            conn = pool.idle(now)
            reused = conn is not None
            if conn is None:
                # None kept: wait for one, or connect, within the same budget.
                async with asyncio.timeout_at(deadline):
                    conn, reused = await pool.acquire()
            try:
                await conn.exchange(request, head, deadline)
            except ConnectionError:
                pool.discard(conn)
                if reused and not conn.answered and method in IDEMPOTENT:
                    now = loop.time()
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

    def _route(self, origin: str) -> tuple[Pool, str]:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the upstream URL must be http(s) with a host")
        tls = None
        if parts.scheme == "https":
            tls = self._tls = self._tls or ssl.create_default_context()
        port = parts.port or (443 if tls else 80)
        pool = Pool(parts.hostname, port, tls, self._pool_size, self._max)
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
        if "content-length" not in seen and (
            body is not None or method in ("POST", "PUT", "PATCH")
        ):
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
