"""One HTTP client per upstream: pooled, time-bounded, retried with care, circuit-broken.

Only idempotent GETs are retried, only on failures that say nothing was processed or that
the agency is briefly unavailable (connect errors, timeouts, 502/503/504), with full-jitter
exponential backoff, and never past the call's overall deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from connectors.breaker import CircuitBreaker, State
from connectors.errors import ConnectorError, InvalidInput, UpstreamInvalid, UpstreamUnavailable
from connectors.failures import error_for_exception, error_for_status

log = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({502, 503, 504})
Params = Sequence[tuple[str, str]]


class TokenSource(Protocol):
    async def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class StaticToken:
    """A long-lived token from settings (API Particulier's)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        """A static token cannot be renewed: a 401 is reported as refused credentials."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.05
    max_delay: float = 1.0

    def delay(self, attempt: int, draw: Callable[[], float]) -> float:
        """Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)]."""
        return draw() * min(self.max_delay, self.base_delay * 2.0**attempt)


def join_path(base_path: str, segments: Sequence[str], *, provider: str) -> str:
    """The base URL's own path followed by each segment percent-encoded, so that no
    identifier can climb to another endpoint."""
    parts = [base_path.rstrip("/")]
    for seg in segments:
        if seg in ("", ".", ".."):
            raise InvalidInput("invalid path segment", provider=provider)
        parts.append(quote(seg, safe=""))
    return "/".join(parts)


class UpstreamClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        provider: str,
        timeout: float,
        pool_size: int,
        breaker: CircuitBreaker,
        auth: TokenSource | None = None,
        deadline: float | None = None,
        retry: RetryPolicy = RetryPolicy(),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        draw: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
            raise ValueError(f"upstream {name}: base URL must be http(s) without query")
        if timeout <= 0 or pool_size < 1:
            raise ValueError(f"upstream {name}: timeout and pool size must be positive")
        self.name = name
        self.provider = provider
        self.auth = auth
        self.breaker = breaker
        self._origin = str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")
        self._base_path = url.path
        self._timeout = timeout
        self._deadline = deadline if deadline is not None else 2 * timeout
        self._retry = retry
        self._monotonic = monotonic
        self._sleep = sleep
        self._draw = draw
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._client = httpx.AsyncClient(
            transport=transport or AiohttpTransport(limits=limits),
            timeout=timeout,
            follow_redirects=False,
        )

    @property
    def circuit(self) -> State:
        return self.breaker.state

    def url(self, segments: Sequence[str]) -> str:
        return self._origin + join_path(self._base_path, segments, provider=self.provider)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(
        self,
        segments: Sequence[str],
        params: Params,
        *,
        bearer: str | None = None,
        provider: str | None = None,
    ) -> dict[str, Any]:
        """GET and decode a JSON object. ``bearer`` replaces our own token (FranceConnect)."""
        who = provider or self.provider
        url = self.url(segments)
        deadline = self._monotonic() + self._deadline
        attempt = 0
        renewed = False
        while True:
            remaining = deadline - self._monotonic()
            token = bearer if bearer is not None else await self._token()
            try:
                response = await self._send("GET", url, params, token, remaining, who)
            except ConnectorError as exc:
                retriable = exc.__cause__ is not None and _retriable_exception(exc.__cause__)
                if not retriable or not await self._backoff(attempt, deadline):
                    raise
                attempt += 1
                continue
            status = response.status_code
            if 200 <= status < 300:
                return _json_object(response.content, who)
            if status == 401 and bearer is None and self.auth is not None and not renewed:
                # An OAuth token can be revoked or expire early: renew once, then give up.
                self.auth.invalidate(token or "")
                renewed = True
                continue
            error = error_for_status(
                status, response.headers, response.content, provider=who, fc_token=bool(bearer)
            )
            log.info("upstream %s answered %s", self.name, status)
            if status not in RETRIABLE_STATUSES or not await self._backoff(attempt, deadline):
                raise error
            attempt += 1

    async def post_form(
        self, segments: Sequence[str], form: dict[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        """POST a form once (never retried: not idempotent) and decode a JSON object."""
        url = self.url(segments)
        response = await self._send(
            "POST", url, (), None, self._timeout, self.provider, form=form, basic=basic
        )
        if 200 <= response.status_code < 300:
            return _json_object(response.content, self.provider)
        raise error_for_status(
            response.status_code, response.headers, response.content, provider=self.provider
        )

    async def _token(self) -> str | None:
        return await self.auth.token() if self.auth is not None else None

    async def _send(
        self,
        method: str,
        url: str,
        params: Params,
        token: str | None,
        budget: float,
        who: str,
        *,
        form: dict[str, str] | None = None,
        basic: tuple[str, str] | None = None,
    ) -> httpx.Response:
        if not self.breaker.allow():
            raise UpstreamUnavailable(
                f"{who}: temporarily disabled after repeated failures",
                provider=who,
                retry_in=self.breaker.retry_in() or None,
            )
        budget = min(self._timeout, budget)
        if budget <= 0:
            self.breaker.abandon()
            raise error_for_exception(TimeoutError(), provider=who)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        try:
            async with asyncio.timeout(budget):
                response = await self._client.request(
                    method,
                    url,
                    params=tuple(params),
                    headers=headers,
                    data=form,
                    auth=httpx.BasicAuth(*basic) if basic else None,
                    timeout=budget,
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            self.breaker.record_failure()
            log.info("upstream %s failed: %s", self.name, type(exc).__name__)
            raise error_for_exception(exc, provider=who) from exc
        except BaseException:
            self.breaker.abandon()
            raise
        if response.status_code >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return response

    async def _backoff(self, attempt: int, deadline: float) -> bool:
        """Sleep before a retry; False when no retry is left or it would end past the deadline."""
        if attempt >= self._retry.max_retries:
            return False
        delay = self._retry.delay(attempt, self._draw)
        if self._monotonic() + delay >= deadline:
            return False
        await self._sleep(delay)
        return True


def _retriable_exception(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TimeoutException | httpx.ConnectError | TimeoutError)


def _json_object(content: bytes, provider: str) -> dict[str, Any]:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamInvalid(f"{provider}: answer is not JSON", provider=provider) from None
    if not isinstance(body, dict):
        raise UpstreamInvalid(f"{provider}: answer is not a JSON object", provider=provider)
    return body
