import asyncio

import pytest

from gateway.admission import Overloaded, TokenAdmission, TokenLimits, address_key, client_key
from gateway.ratelimit import MemoryRateLimiter, Rate
from runtime.settings import load

LIMITS = TokenLimits(per_address=Rate(1.0, 2), per_client=Rate(1.0, 1), concurrency=1, queue=1)


def test_addresses_bucketed() -> None:
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key(None) == address_key("not an address") == "unknown"


def test_client_keys_are_bounded_digests() -> None:
    assert client_key("caf-web") == client_key("caf-web")
    assert client_key("caf-web") != client_key("caf-web2")
    assert len(client_key("x" * 10_000)) == 32
    assert len(client_key("\udcff")) == 32  # an undecodable id from a Basic header


async def test_buckets_per_address_and_per_client() -> None:
    admission = TokenAdmission(MemoryRateLimiter(clock=lambda: 0.0), LIMITS)
    assert await admission.address_wait("203.0.113.7") is None
    assert await admission.address_wait("203.0.113.7") is None
    assert await admission.address_wait("203.0.113.7") == pytest.approx(1.0)
    assert await admission.address_wait("198.51.100.1") is None
    assert await admission.client_wait("caf-web") is None
    assert await admission.client_wait("caf-web") is not None
    assert await admission.client_wait("partner") is None


async def test_hashing_slots_and_a_bounded_line() -> None:
    admission = TokenAdmission(MemoryRateLimiter(), LIMITS)
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with admission.hashing():
            order.append("first in")
            await release.wait()
        order.append("first out")

    async def second() -> None:
        async with admission.hashing():
            order.append("second in")

    one = asyncio.create_task(first())
    await asyncio.sleep(0)
    two = asyncio.create_task(second())
    await asyncio.sleep(0)
    assert order == ["first in"]  # the second waits in line
    with pytest.raises(Overloaded):  # the line (one place) is full: turned away at once
        async with admission.hashing():
            pass
    release.set()
    await asyncio.gather(one, two)
    assert order == ["first in", "first out", "second in"]
    async with admission.hashing():  # everything was given back
        pass


def test_limits_from_settings() -> None:
    settings = load(
        {
            "UNEFOIS_TOKEN_RATE_PER_ADDRESS": "2.5",
            "UNEFOIS_TOKEN_BURST_PER_ADDRESS": "7",
            "UNEFOIS_TOKEN_RATE_PER_CLIENT": "0.5",
            "UNEFOIS_TOKEN_BURST_PER_CLIENT": "3",
            "UNEFOIS_TOKEN_CONCURRENCY": "4",
            "UNEFOIS_TOKEN_QUEUE": "9",
        }
    )
    assert TokenLimits.from_settings(settings) == TokenLimits(
        per_address=Rate(2.5, 7), per_client=Rate(0.5, 3), concurrency=4, queue=9
    )
    with pytest.raises(ValueError, match="concurrency"):
        TokenLimits(per_address=Rate(1, 1), per_client=Rate(1, 1), concurrency=0, queue=0)
