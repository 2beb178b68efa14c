"""The wire under :class:`connectors.http.UpstreamClient`: one request out, one whole answer in.

The client keeps the policy (retries, deadline, breaker, token renewal, error mapping); a
transport only moves bytes, so tests can give the client a small in-memory one. The default
transport is aiohttp used directly: one pooled ``ClientSession`` per upstream, created on first
use because a session belongs to the running event loop, and the settings may be read before
there is one. :class:`connectors.wire.WireTransport` is the other one
(``UNEFOIS_UPSTREAM_TRANSPORT=wire``): a lean HTTP/1.1 client spending less CPU per call.

A transport raises ``TimeoutError`` when ``budget`` seconds elapse, aiohttp's ``ClientError``
family, ``OSError`` or ``connectors.wire.BadAnswer`` when the exchange fails, and
:class:`AnswerTooLarge` past its size cap; ``connectors.failures`` maps them all.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

# Agencies answer a few kilobytes; anything near this is a wrong route or a broken upstream,
# and reading it whole would let one answer hold megabytes of memory per call.
MAX_ANSWER_BYTES = 2 * 1024 * 1024
# Seconds a resolved upstream host name is reused before it is looked up again.
DNS_CACHE_TTL = 300
# Abort TLS connections whose close never completes: they leak on Pythons without the asyncio
# fix of cpython#118960 (3.12.8, 3.13.1); on later ones aiohttp ignores the option with a warning.
CLEANUP_CLOSED = sys.version_info < (3, 12, 8) or (3, 13, 0) <= sys.version_info < (3, 13, 1)


class AnswerTooLarge(Exception):
    """The answer's body is larger than the transport accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class RawResponse:
    status: int
    # Looked up case-insensitively (``Retry-After``): plain mappings are wrapped on creation.
    headers: Mapping[str, str]
    content: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CIMultiDictProxy | CIMultiDict):
            object.__setattr__(self, "headers", CIMultiDictProxy(CIMultiDict(self.headers)))


class Transport(Protocol):
    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> RawResponse:
        """Send one request to ``url`` (already percent-encoded, sent as is) within
        ``budget`` seconds and return the whole answer; redirects are not followed."""
        ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    def __init__(self, pool_size: int, *, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        if pool_size < 1 or max_answer_bytes < 1:
            raise ValueError("pool size and answer cap must be positive")
        self._pool_size = pool_size
        self._max = max_answer_bytes
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session once a request has created it (None before, and after ``aclose``)."""
        return self._session

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the upstream transport is closed")
        connector = aiohttp.TCPConnector(
            limit=self._pool_size,
            limit_per_host=self._pool_size,
            ttl_dns_cache=DNS_CACHE_TTL,
            enable_cleanup_closed=CLEANUP_CLOSED,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=True,
            raise_for_status=False,
            # Agencies are APIs: a cookie one sets must not ride along on other persons' calls.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> RawResponse:
        session = self._session or self._open()
        async with session.request(
            method,
            # encoded=True: the URL is built and percent-encoded once, by us; yarl must not
            # re-quote it (that would also cost more CPU than the rest of the call).
            yarl.URL(url, encoded=True),
            headers=headers,
            data=body,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=budget),
        ) as response:
            length = response.content_length
            if length is not None and length > self._max:
                response.close()
                raise AnswerTooLarge(self._max)
            content = await self._read(response)
            return RawResponse(response.status, response.headers, content)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        # Counted as it arrives: a compressed or chunked answer has no trustworthy length.
        chunks: list[bytes] = []
        size = 0
        stream = response.content
        while chunk := await stream.readany():
            size += len(chunk)
            if size > self._max:
                response.close()
                raise AnswerTooLarge(self._max)
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
