"""Per-client rate limits: token buckets, in process or shared through Redis.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second; a request
takes one. With several gateway replicas the buckets live in Redis, updated atomically by one
Lua script that reads Redis's own clock, so replicas with drifting clocks still agree.
While Redis is down each replica counts in its own buckets: the limit then holds per replica.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cachetools import LRUCache
from redis.asyncio import Redis

from connectors.redis_health import REDIS_FAILURES, RedisHealth

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs a positive refill and a burst of at least 1")


class RateLimiter(Protocol):
    async def take(self, key: str, rate: Rate) -> float | None:
        """None when allowed; otherwise seconds until one token is back."""
        ...

    async def aclose(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, size: int = 100_000) -> None:
        self._clock = clock
        # key → (tokens, last refill); bounded so that many clients cannot grow memory.
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(size)

    async def take(self, key: str, rate: Rate) -> float | None:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(rate.burst), now))
        tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / rate.per_second

    async def aclose(self) -> None:
        return None


# KEYS[1] bucket; ARGV: rate per second, burst. Returns -1 when allowed, else milliseconds
# to wait. TIME is Redis's clock: every replica reads the same one.
_SCRIPT = """
local now_s, now_us = unpack(redis.call('TIME'))
local now = tonumber(now_s) + tonumber(now_us) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local wait = -1
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """Buckets shared by every replica. If Redis fails, the replica falls back to buckets of
    its own (``fallback``) until Redis answers again: a rate limit protects agencies, it must
    neither take the gateway down with Redis nor vanish with it."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        health: RedisHealth | None = None,
        fallback: RateLimiter | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = prefix + "rate:"
        self._script = redis.register_script(_SCRIPT)
        self.health = health or RedisHealth("ratelimit")
        self._fallback = fallback or MemoryRateLimiter()

    async def take(self, key: str, rate: Rate) -> float | None:
        if self.health.usable():
            try:
                wait = await self._script(
                    keys=[self._prefix + key], args=[rate.per_second, rate.burst]
                )
            except REDIS_FAILURES as exc:
                self.health.failed(exc)
                log.warning(
                    "rate limit store unavailable, limiting per replica",
                    extra={"outcome": type(exc).__name__},
                )
            else:
                self.health.succeeded()
                return None if int(wait) < 0 else int(wait) / 1000.0
        return await self._fallback.take(key, rate)

    async def check(self) -> bool:
        """Whether Redis answers, probing it if due; for readiness checks."""
        return await self.health.ping(self._redis)

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._fallback.aclose()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
