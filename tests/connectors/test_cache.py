from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from redis import asyncio as aioredis

from connectors import CallContext, Cnaf, MemoryCache, PivotIdentity, RedisCache, cache_key
from connectors.redis_health import RedisHealth
from connectors.transport import RawResponse
from tests.connectors.conftest import (
    NOW,
    SIRET,
    FakeMonotonic,
    FakeTransport,
    Request,
    answer,
    fixed_clock,
    make_client,
)
from tests.frozen_redis import silent_redis
from tests.services import unavailable

REDIS_URL = "redis://127.0.0.1:6379/0"
RSA = {"data": {"est_beneficiaire": True, "avec_majoration": False, "date_debut_droit": None}}


async def test_memory_cache_expires_with_its_timer() -> None:
    timer = FakeMonotonic()
    cache = MemoryCache(10, timer=timer)
    await cache.set("k", b"v", 5.0)
    assert await cache.get("k") == b"v"
    timer.advance(5.1)
    assert await cache.get("k") is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(2)
    for key in ("a", "b", "c"):
        await cache.set(key, key.encode(), 60)
    assert sum([await cache.get(k) is not None for k in ("a", "b", "c")]) == 2


def test_keys_hold_no_personal_data(person: PivotIdentity) -> None:
    key = cache_key("src", person.key(), [SIRET])
    assert len(key) == 64 and "MARTIN" not in key and "1980" not in key
    assert key != cache_key("src", person.key(), ["other"])
    assert cache_key("ab", "c", []) != cache_key("a", "bc", [])


async def test_hit_is_marked_cached_and_no_cache_refetches(
    person: PivotIdentity, ctx: CallContext
) -> None:
    calls = 0

    def handler(request: Request) -> RawResponse:
        nonlocal calls
        calls += 1
        return answer(200, json=RSA)

    http = make_client("https://api.example", transport=FakeTransport(handler))
    cnaf = Cnaf(http, MemoryCache(10), fixed_clock)
    first = await cnaf.benefit(person, "rsa", ctx)
    second = await cnaf.benefit(person, "rsa", ctx)
    assert (first.provenance.cached, second.provenance.cached) == (False, True)
    assert second.provenance.retrieved_at == NOW and second.receiving is True
    assert calls == 1
    fresh = await cnaf.benefit(person, "rsa", CallContext(SIRET, date(2025, 3, 14), True))
    assert fresh.provenance.cached is False and calls == 2
    other = await cnaf.benefit(person, "rsa", CallContext("11111111111111", ctx.on))
    assert other.provenance.cached is False and calls == 3  # per recipient


async def test_invalid_answers_are_not_cached(person: PivotIdentity, ctx: CallContext) -> None:
    cache = MemoryCache(10)
    http = make_client(
        "https://api.example",
        transport=FakeTransport(lambda r: answer(200, json={"data": {}})),
    )
    with pytest.raises(Exception, match="malformed"):
        await Cnaf(http, cache, fixed_clock).benefit(person, "rsa", ctx)
    assert len(cache._data) == 0


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError):
        await client.aclose()
        unavailable("Redis is not reachable at 127.0.0.1:6379")
    prefix = f"unefois-test:{uuid.uuid4().hex}:"
    yield prefix
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_redis_round_trip_and_ttl(redis_prefix: str) -> None:
    cache = RedisCache(REDIS_URL, prefix=redis_prefix)
    try:
        await cache.set("k", b"value", 60)
        assert await cache.get("k") == b"value"
        assert await cache.get("absent") is None
        raw = aioredis.Redis.from_url(REDIS_URL)
        assert 0 < await raw.pttl(redis_prefix + "k") <= 60_000
        await raw.aclose()
    finally:
        await cache.aclose()


async def test_redis_backs_connectors_without_personal_data(
    redis_prefix: str, person: PivotIdentity, ctx: CallContext
) -> None:
    http = make_client(
        "https://api.example",
        transport=FakeTransport(lambda r: answer(200, json=RSA)),
    )
    cache = RedisCache(REDIS_URL, prefix=redis_prefix)
    try:
        cnaf = Cnaf(http, cache, fixed_clock)
        await cnaf.benefit(person, "rsa", ctx)
        again = await cnaf.benefit(person, "rsa", ctx)
        assert again.provenance.cached is True
        raw = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in raw.scan_iter(match=redis_prefix + "*")]
        await raw.aclose()
        assert len(keys) == 1 and b"MARTIN" not in keys[0]
    finally:
        await cache.aclose()


async def test_unreachable_redis_degrades_to_no_cache(
    person: PivotIdentity, ctx: CallContext
) -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", prefix="x:")
    http = make_client(
        "https://api.example",
        transport=FakeTransport(lambda r: answer(200, json=RSA)),
    )
    record = await Cnaf(http, cache, fixed_clock).benefit(person, "rsa", ctx)
    assert record.receiving is True and record.provenance.cached is False
    await cache.aclose()


async def test_a_frozen_redis_costs_one_timeout_per_backoff(
    person: PivotIdentity, ctx: CallContext
) -> None:
    clock = FakeMonotonic()
    health = RedisHealth("cache", backoff=5.0, clock=clock)
    http = make_client(
        "https://api.example",
        transport=FakeTransport(lambda r: answer(200, json=RSA)),
    )
    with silent_redis() as url:
        cache = RedisCache(url, prefix="x:", socket_timeout=0.05, health=health)
        try:
            cnaf = Cnaf(http, cache, fixed_clock)
            for _ in range(10):
                record = await cnaf.benefit(person, "rsa", ctx)
                assert record.receiving is True and record.provenance.cached is False
            # The first read timed out; the other reads and every write skipped Redis.
            assert (health.up, health.timeouts, health.errors) == (False, 1, 1)
            assert await cache.check() is False and health.timeouts == 1
            clock.advance(5.0)
            assert await cache.get("k") is None  # the probe, which times out again
            assert await cache.get("k") is None
            assert health.timeouts == 2
        finally:
            await cache.aclose()


async def test_the_cache_is_used_again_once_redis_answers(redis_prefix: str) -> None:
    clock = FakeMonotonic()
    health = RedisHealth("cache", backoff=5.0, clock=clock)
    cache = RedisCache(REDIS_URL, prefix=redis_prefix, health=health)
    try:
        health.failed(TimeoutError())
        await cache.set("k", b"value", 60)  # skipped: Redis is believed down
        assert await cache.get("k") is None
        clock.advance(5.0)
        await cache.set("k", b"value", 60)  # the probe, which succeeds
        assert health.up is True
        assert await cache.get("k") == b"value"
        assert await cache.check() is True
    finally:
        await cache.aclose()


async def test_memory_cache_keeps_records_apart_from_bytes() -> None:
    from connectors.cache import MemoryCache

    cache = MemoryCache(10)
    record = object()
    cache.set_record("k", record, 60)
    assert cache.lookup("k") is record
    assert await cache.get("k") is None  # a record is not served as bytes
    await cache.set("b", b"raw", 60)
    assert cache.lookup("b") == b"raw" and await cache.get("b") == b"raw"
    cache.set_record("z", record, 0)  # no lifetime, not kept
    assert cache.lookup("z") is None


async def test_an_answer_kept_as_bytes_in_memory_is_served_decoded(
    person: PivotIdentity, ctx: CallContext
) -> None:
    """A memory cache holding an answer's bytes (the shared interface) serves it like Redis
    would: decoded, checked, marked cached, with no agency call."""
    calls = 0

    def handler(request: Request) -> RawResponse:
        nonlocal calls
        calls += 1
        return answer(200, json=RSA)

    cache = MemoryCache(10)
    first = await Cnaf(
        make_client("https://api.example", transport=FakeTransport(handler)),
        RedisLike(cache),
        fixed_clock,
    ).benefit(person, "rsa", ctx)
    assert calls == 1 and first.provenance.cached is False
    kept = await Cnaf(
        make_client("https://api.example", transport=FakeTransport(handler)), cache, fixed_clock
    ).benefit(person, "rsa", ctx)
    assert calls == 1
    assert kept.provenance.cached is True and kept.receiving is True
    assert kept.provenance.retrieved_at == NOW


class RedisLike:
    """A cache of bytes only, as Redis is, over a memory cache."""

    def __init__(self, inner: MemoryCache) -> None:
        self._inner = inner

    async def get(self, key: str) -> bytes | None:
        return await self._inner.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        await self._inner.set(key, value, ttl)

    async def aclose(self) -> None:
        await self._inner.aclose()
