"""One HTTP client per upstream: pooled, time-bounded, retried with care, circuit-broken.

Only idempotent requests are retried (GETs, DELETEs, POSTs carrying an idempotency key), only
on failures that say nothing was processed or that the agency is briefly unavailable (connect
errors, timeouts, 502/503/504), with full-jitter exponential backoff. A call has one deadline,
computed when it starts (the upstream's timeout unless configured otherwise): token renewal,
every attempt and every backoff come out of it, so an agency that hangs costs that much.

Circuit breakers count calls, not attempts, and only the agency's failures: timeouts, refused
or broken connections, 5xx, garbage bodies. An answer the request itself caused (400, 404,
409, 422, 429) or a request refused before it is sent never counts, so one client's bad
input cannot cut an agency off for every other client. An upstream that serves several
agencies (API Particulier) keeps one breaker per agency, named by the caller's ``circuit``.

The URL of a call is built and percent-encoded once, here, and the transport sends it as is:
re-parsing and re-quoting it per call was most of the CPU an upstream call cost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, urlencode

import aiohttp
import orjson
import yarl

from connectors.breaker import CircuitBreaker, State
from connectors.errors import (
    Conflict,
    ConnectorError,
    UpstreamInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.failures import error_for_exception, error_for_status, retriable
from connectors.transport import AiohttpTransport, AnswerTooLarge, RawResponse, Transport
from connectors.url import Params, basic_credentials, encode_query, join_path
from connectors.wire import BadAnswer

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRIABLE_STATUSES = frozenset({502, 503, 504})
_SEVERITY: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}


def agency_failure(exc: ConnectorError) -> bool:
    """Whether an error says the agency failed (counted by its breaker), rather than that it
    refused or could not serve this one request."""
    if isinstance(exc, Conflict):
        return False
    return isinstance(exc, UpstreamTimeout | UpstreamUnavailable | UpstreamInvalid)


class TokenSource(Protocol):
    async def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


@runtime_checkable
class HeldToken(Protocol):
    """A token source that can say, without waiting, the valid token it holds."""

    def current(self) -> str | None: ...


class StaticToken:
    """A long-lived token from settings (API Particulier's)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    def current(self) -> str | None:
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
        transport: Transport | None = None,
    ) -> None:
        try:
            url = yarl.URL(base_url)
        except ValueError:
            raise ValueError(f"upstream {name}: base URL is not a URL") from None
        if (
            url.scheme not in ("http", "https")
            or not url.host
            or url.raw_query_string
            or url.raw_fragment
        ):
            raise ValueError(f"upstream {name}: base URL must be http(s) without query")
        if timeout <= 0 or pool_size < 1:
            raise ValueError(f"upstream {name}: timeout and pool size must be positive")
        self.name = name
        self.provider = provider
        self.auth = auth
        self.breaker = breaker
        self._origin = str(url.origin())
        self._base_path = url.raw_path  # already percent-encoded, as the segments will be
        self._timeout = timeout
        self._deadline = deadline if deadline is not None else timeout
        self._breakers: dict[str, CircuitBreaker] = {provider: breaker}
        self._retry = retry
        self._monotonic = monotonic
        self._sleep = sleep
        self._draw = draw
        self._transport: Transport = transport or AiohttpTransport(pool_size)

    @property
    def auth(self) -> TokenSource | None:
        return self._auth

    @auth.setter
    def auth(self, source: TokenSource | None) -> None:
        self._auth = source
        self._held = source if isinstance(source, HeldToken) else None

    @property
    def circuit(self) -> State:
        """The worst state among this upstream's circuits."""
        return max((b.state for b in self._breakers.values()), key=_SEVERITY.__getitem__)

    def circuits(self) -> dict[str, State]:
        """Agency → state of its circuit, for an upstream serving several agencies."""
        return {name: b.state for name, b in self._breakers.items()}

    def breaker_for(self, circuit: str) -> CircuitBreaker:
        """The breaker of one agency behind this upstream, made on first use like the
        upstream's own (circuit names come from connectors, never from an answer)."""
        found = self._breakers.get(circuit)
        if found is None:
            found = self._breakers[circuit] = self.breaker.twin()
        return found

    def url(self, segments: Sequence[str]) -> str:
        return self._origin + join_path(self._base_path, segments, provider=self.provider)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def get_json(
        self,
        segments: Sequence[str],
        params: Params,
        *,
        bearer: str | None = None,
        provider: str | None = None,
        circuit: str | None = None,
    ) -> dict[str, Any]:
        """GET and decode a JSON object. ``bearer`` replaces our own token (FranceConnect);
        ``circuit`` names the agency whose breaker the call counts in (``provider`` by
        default, else the upstream's own)."""
        url = self.url(segments)
        if params:
            url += "?" + encode_query(params)
        who = provider or self.provider
        breaker = self.breaker_for(circuit or who)
        answer = await self._call("GET", url, None, {}, bearer, who, True, breaker)
        assert answer is not None  # a 2xx GET always has a body to decode
        return answer

    async def send_json(
        self,
        method: str,
        segments: Sequence[str],
        body: dict[str, Any] | None,
        *,
        headers: Mapping[str, str] | None = None,
        idempotent: bool,
    ) -> dict[str, Any] | None:
        """Send ``body`` as JSON (POST, DELETE…) and decode the JSON object answered, None for
        an empty 2xx. Retried like a GET only when ``idempotent``: a DELETE, or a POST that
        carries an idempotency key the agency honours."""
        payload = None if body is None else orjson.dumps(body)
        extra = dict(headers or {})
        if payload is not None:
            extra["Content-Type"] = "application/json"
        return await self._call(
            method,
            self.url(segments),
            payload,
            extra,
            None,
            self.provider,
            idempotent,
            self.breaker,
        )

    async def _call(
        self,
        method: str,
        url: str,
        payload: bytes | None,
        extra: Mapping[str, str],
        bearer: str | None,
        who: str,
        idempotent: bool,
        breaker: CircuitBreaker,
    ) -> dict[str, Any] | None:
        """One call, its retries included, counted once by ``breaker``."""
        return await counted(
            breaker,
            who,
            lambda: self._attempts(method, url, payload, extra, bearer, who, idempotent),
        )

    async def _attempts(
        self,
        method: str,
        url: str,
        payload: bytes | None,
        extra: Mapping[str, str],
        bearer: str | None,
        who: str,
        idempotent: bool,
    ) -> dict[str, Any] | None:
        deadline = self._monotonic() + self._deadline
        attempt = 0
        renewed = False
        while True:
            token = bearer if bearer is not None else await self._token(deadline, who)
            remaining = deadline - self._monotonic()
            try:
                response = await self._send(
                    method, url, token, payload, remaining, who, extra=extra
                )
            except ConnectorError as exc:
                again = idempotent and exc.__cause__ is not None and retriable(exc.__cause__)
                if not again or not await self._backoff(attempt, deadline):
                    raise
                attempt += 1
                continue
            status = response.status
            if 200 <= status < 300:
                if method != "GET" and not response.content:
                    return None
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
            if (
                not idempotent
                or status not in RETRIABLE_STATUSES
                or not await self._backoff(attempt, deadline)
            ):
                raise error
            attempt += 1

    async def post_form(
        self, segments: Sequence[str], form: dict[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        """POST a form once (never retried: not idempotent) and decode a JSON object."""
        url = self.url(segments)
        body = urlencode(form, quote_via=quote).encode("ascii")
        credentials = basic_credentials(*basic)

        async def once() -> dict[str, Any]:
            response = await self._send(
                "POST", url, None, body, self._timeout, self.provider, basic=credentials
            )
            if 200 <= response.status < 300:
                return _json_object(response.content, self.provider)
            raise error_for_status(
                response.status, response.headers, response.content, provider=self.provider
            )

        return await counted(self.breaker, self.provider, once)

    async def _token(self, deadline: float, who: str) -> str | None:
        if self.auth is None:
            return None
        if self._held is not None:
            # The common case: a valid token in hand, no renewal to bound by the deadline.
            held = self._held.current()
            if held is not None:
                return held
        remaining = deadline - self._monotonic()
        try:
            # A token renewal spends the call's own time: it gets what is left, no more.
            async with asyncio.timeout(max(remaining, 0.0)):
                return await self.auth.token()
        except TimeoutError:
            raise error_for_exception(TimeoutError(), provider=who) from None

    async def _send(
        self,
        method: str,
        url: str,
        token: str | None,
        form: bytes | None,
        budget: float,
        who: str,
        *,
        basic: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> RawResponse:
        budget = min(self._timeout, budget)
        if budget <= 0:
            raise error_for_exception(TimeoutError(), provider=who)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        elif basic is not None:
            headers["Authorization"] = basic
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers.update(extra or {})
        try:
            response = await self._transport.send(method, url, headers, form, budget)
        except (aiohttp.ClientError, OSError, AnswerTooLarge, BadAnswer) as exc:
            log.info("upstream %s failed: %s", self.name, type(exc).__name__)
            raise error_for_exception(exc, provider=who) from exc
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


async def counted(breaker: CircuitBreaker, who: str, call: Callable[[], Awaitable[T]]) -> T:
    """A call ``breaker`` may refuse at once, counted by it once whatever its retries: a
    failure of the agency's (timeout, connection, 5xx, garbage) counts against it; an answer
    that refuses this request (4xx) shows it up; a call cancelled or failing here, neither."""
    if not breaker.allow():
        raise UpstreamUnavailable(
            f"{who}: temporarily disabled after repeated failures",
            provider=who,
            retry_in=breaker.retry_in() or None,
        )
    try:
        answer = await call()
    except ConnectorError as exc:
        if agency_failure(exc):
            breaker.record_failure()
        else:
            breaker.record_success()
        raise
    except BaseException:
        breaker.abandon()
        raise
    breaker.record_success()
    return answer


def _json_object(content: bytes, provider: str) -> dict[str, Any]:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamInvalid(f"{provider}: answer is not JSON", provider=provider) from None
    if not isinstance(body, dict):
        raise UpstreamInvalid(f"{provider}: answer is not a JSON object", provider=provider)
    return body
