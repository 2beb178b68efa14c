"""TTL cache of validated upstream answers, below every policy decision.

Keys are ``sha256(source, subject key, params)``, behind Redis's configured prefix: a
person's identity never appears in a key, so a shared Redis holds no name, no birth date,
no token in clear. Values are the
agency's validated ``data`` with its dates (see :mod:`connectors.source`). A Redis failure
degrades to "no cache": it is logged (without key or value) and never fails the call, and
Redis is then skipped for a back-off period (see :mod:`connectors.redis_health`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cachetools import TLRUCache

from connectors.redis_health import DEFAULT_TIMEOUT, REDIS_FAILURES, RedisHealth, redis_client

log = logging.getLogger(__name__)


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float) -> None: ...

    async def aclose(self) -> None: ...


def cache_key(source: str, subject_key: str, params: Sequence[str]) -> str:
    digest = hashlib.sha256()
    # Length-prefixed parts, so that no two different inputs concatenate to the same text.
    for part in (source, subject_key, *params):
        raw = part.encode()
        digest.update(len(raw).to_bytes(4, "big"))
        digest.update(raw)
    return digest.hexdigest()


def _expiry(_key: str, value: tuple[float, bytes], now: float) -> float:
    return now + value[0]


class MemoryCache:
    """In-process, bounded: the embedded default.

    Besides answers as bytes (the shared interface), it keeps validated records themselves:
    within one process nothing needs to be decoded and checked again on a hit.
    """

    def __init__(self, maxsize: int, *, timer: Callable[[], float] = time.monotonic) -> None:
        self._data: TLRUCache[str, tuple[float, Any]] = TLRUCache(
            maxsize=maxsize, ttu=_expiry, timer=timer
        )

    async def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        return entry[1] if entry is not None and isinstance(entry[1], bytes) else None

    def lookup(self, key: str) -> Any | None:
        """What ``key`` holds, a record or an answer's bytes, in one look."""
        entry = self._data.get(key)
        return None if entry is None else entry[1]

    def set_record(self, key: str, record: Any, ttl: float) -> None:
        if ttl > 0:
            self._data[key] = (ttl, record)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl > 0:
            self._data[key] = (ttl, value)

    async def aclose(self) -> None:
        self._data.clear()


class NoCache:
    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        return None

    async def aclose(self) -> None:
        return None


class RedisCache:
    """Shared between gateway replicas. Redis is an optimisation, never a dependency: while
    it is down (``health``), reads are misses and writes are dropped, without waiting."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        socket_timeout: float = DEFAULT_TIMEOUT,
        health: RedisHealth | None = None,
    ) -> None:
        self._prefix = prefix
        self._redis = redis_client(url, socket_timeout)
        self.health = health or RedisHealth("cache")

    async def get(self, key: str) -> bytes | None:
        if not self.health.usable():
            return None
        try:
            value = await self._redis.get(self._prefix + key)
        except REDIS_FAILURES as exc:
            self.health.failed(exc)
            log.warning("cache read failed, continuing without cache: %s", type(exc).__name__)
            return None
        self.health.succeeded()
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0 or not self.health.usable():
            return
        try:
            await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))
        except REDIS_FAILURES as exc:
            self.health.failed(exc)
            log.warning("cache write failed, continuing without cache: %s", type(exc).__name__)
            return
        self.health.succeeded()

    async def check(self) -> bool:
        """Whether Redis answers, probing it if due; for readiness checks."""
        return await self.health.ping(self._redis)

    async def aclose(self) -> None:
        try:
            await self._redis.aclose()
        except REDIS_FAILURES as exc:
            log.warning("cache close failed: %s", type(exc).__name__)
