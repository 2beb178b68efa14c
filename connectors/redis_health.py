"""Redis as one process sees it: up or down, and the clients that respect that.

Redis holds the shared cache and the shared rate limits: an optimisation, never a
dependency. A Redis that refuses connections fails fast; one that is frozen (stopped
process, swapping host, a partition dropping packets) answers nothing, and every call
waits for its socket timeout. So every client has short timeouts and no retries, and after
a failure its users skip Redis for a back-off period, then let one call through as a probe:
a frozen Redis costs each role a timeout per back-off period (plus the calls already in
flight when it froze), not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 0.1  # seconds; a Redis on the local network answers in well under 1 ms
BACKOFF = 2.0  # seconds Redis is skipped after a failure, before the next probe

# What a Redis call raises when Redis is not there: the client's errors, and the socket's
# own when they escape it (a refused or reset connection, a timeout while connecting).
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def with_timeouts(url: str, timeout: float) -> str:
    """``url`` with socket and connect timeouts as query parameters, which the Redis client
    reads from the URL. Timeouts already in the URL are the operator's: they stay."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_timeout", str(timeout))
    query.setdefault("socket_connect_timeout", str(timeout))
    return urlunsplit(parts._replace(query=urlencode(query)))


def redis_client(url: str, timeout: float = DEFAULT_TIMEOUT) -> Redis:
    """A client that gives up after ``timeout`` seconds and never retries: retrying a frozen
    Redis multiplies the wait (the library's default retries three times, with a back-off
    of up to seconds)."""
    return Redis.from_url(
        with_timeouts(url, timeout),
        retry=Retry(NoBackoff(), 0),
    )


class RedisHealth:
    """Whether one role (``cache``, ``ratelimit``) should call Redis now, and what went wrong.

    Up, every call goes through (one attribute read on the hot path). After a failure, calls
    are skipped until ``backoff`` seconds have passed; then one call probes, and its outcome
    decides. Counters are plain integers read when metrics are scraped.
    """

    def __init__(
        self,
        role: str,
        *,
        backoff: float = BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.role = role
        self.backoff = backoff
        self.up = True
        self.errors = 0  # every failed call, timeouts included
        self.timeouts = 0
        self._clock = clock
        self._probe_at = 0.0

    def usable(self) -> bool:
        if self.up:
            return True
        now = self._clock()
        if now < self._probe_at:
            return False
        # One probe per period, however many requests arrive while it is under way.
        self._probe_at = now + self.backoff
        return True

    def succeeded(self) -> None:
        if not self.up:
            self.up = True
            log.warning("redis is back for the %s", self.role)

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        if isinstance(exc, RedisTimeoutError | asyncio.TimeoutError | TimeoutError):
            self.timeouts += 1
        self._probe_at = self._clock() + self.backoff
        if self.up:
            self.up = False
            log.warning(
                "redis unavailable for the %s, skipped for %s s",
                self.role,
                self.backoff,
                extra={"outcome": type(exc).__name__},
            )

    async def ping(self, redis: Redis) -> bool:
        """Probe with PING if a call is due now (readiness checks call this); the state after."""
        if self.usable():
            try:
                await redis.ping()
            except REDIS_FAILURES as exc:
                self.failed(exc)
            else:
                self.succeeded()
        return self.up
