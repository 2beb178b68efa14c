from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.ratelimit import MemoryRateLimiter, Rate, RedisRateLimiter, retry_after_header
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


async def test_redis_failure_lets_requests_through() -> None:
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(broken, "x:")
    assert await limiter.take("client", RATE) is None
    await limiter.aclose()
