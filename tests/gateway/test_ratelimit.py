from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.redis_health import RedisHealth, redis_client
from gateway.ratelimit import MemoryRateLimiter, Rate, RedisRateLimiter, retry_after_header
from tests.frozen_redis import silent_redis
from tests.services import unavailable

RATE = Rate(per_second=2.0, burst=3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_bucket_allows_a_burst_then_refills() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    assert [await limiter.take("a", RATE) for _ in range(3)] == [None, None, None]
    wait = await limiter.take("a", RATE)
    assert wait == pytest.approx(0.5)
    assert await limiter.take("b", RATE) is None  # buckets are per key
    clock.now += 0.5
    assert await limiter.take("a", RATE) is None
    assert await limiter.take("a", RATE) is not None
    clock.now += 100
    assert [await limiter.take("a", RATE) for _ in range(3)] == [None, None, None]


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Rate(0, 1)
    with pytest.raises(ValueError):
        Rate(1, 0)


def test_retry_after_rounds_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        await client.ping()
    except (RedisConnectionError, OSError):
        await client.aclose()
        unavailable("Redis is not running on 127.0.0.1:6379")
    yield client
    await client.aclose()


async def test_redis_buckets_are_shared_between_limiters(redis: Redis) -> None:
    prefix = f"unefois-test-{uuid.uuid4().hex}:"
    one = RedisRateLimiter(redis, prefix)
    two = RedisRateLimiter(redis, prefix)
    try:
        results = [await one.take("client", RATE), await two.take("client", RATE)]
        results += [await one.take("client", RATE), await two.take("client", RATE)]
        assert results[:3] == [None, None, None]
        assert results[3] is not None and 0 < results[3] <= 0.5
        assert await one.take("other", RATE) is None
    finally:
        keys = [k async for k in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)


async def test_redis_failure_falls_back_to_the_replicas_own_buckets() -> None:
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(broken, "x:", fallback=MemoryRateLimiter(Clock()))
    assert [await limiter.take("client", RATE) for _ in range(3)] == [None, None, None]
    assert await limiter.take("client", RATE) == pytest.approx(0.5)
    assert limiter.health.up is False
    await limiter.aclose()


async def test_a_frozen_redis_costs_one_timeout_per_backoff() -> None:
    clock = Clock()
    health = RedisHealth("ratelimit", backoff=5.0, clock=clock)
    with silent_redis() as url:
        limiter = RedisRateLimiter(
            redis_client(url, timeout=0.05), "x:", health=health, fallback=MemoryRateLimiter(clock)
        )
        try:
            waits = [await limiter.take("client", RATE) for _ in range(10)]
            assert waits[:3] == [None, None, None] and all(w is not None for w in waits[3:])
            assert (health.up, health.timeouts) == (False, 1)
            assert await limiter.check() is False and health.timeouts == 1
            clock.now += 5.0
            await limiter.take("client", RATE)  # the probe
            await limiter.take("client", RATE)
            assert health.timeouts == 2
        finally:
            await limiter.aclose()


async def test_shared_buckets_again_once_redis_answers(redis: Redis) -> None:
    clock = Clock()
    prefix = f"unefois-test-{uuid.uuid4().hex}:"
    health = RedisHealth("ratelimit", backoff=5.0, clock=clock)
    url = "redis://127.0.0.1:6379/0"
    limiter = RedisRateLimiter(redis_client(url), prefix, health=health)
    try:
        health.failed(TimeoutError())
        assert await limiter.take("client", RATE) is None  # the replica's own bucket
        assert [k async for k in redis.scan_iter(match=prefix + "*")] == []
        clock.now += 5.0
        assert await limiter.check() is True
        assert await limiter.take("client", RATE) is None
        assert len([k async for k in redis.scan_iter(match=prefix + "*")]) == 1
    finally:
        await limiter.aclose()
        keys = [k async for k in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
