"""Admission to the token endpoint: what a request must pass before a scrypt is spent on it.

Client authentication costs one scrypt (tens of milliseconds of CPU) whether or not the
client id exists, so that timing does not tell which ids do. Unbounded, that cost is a lever:
a flood of token requests once slowed every issuance from 0.04 s to 2.45 s. Three bounds,
checked in this order, cheapest first:

1. a token bucket per source address (an IPv6 address counts by its /64, the block one
   subscriber usually holds);
2. a token bucket per client id, taken for every id asked, known or not, so that being
   limited says nothing about existence either;
3. at most ``concurrency`` hashes at once in worker threads, and at most ``queue`` requests
   waiting for one; past that the request is turned away at once rather than parked.

A refusal is HTTP 429 (RFC 6585) with ``Retry-After`` and the OAuth error ``slow_down``,
registered for token endpoint responses by RFC 8628 §3.5 and §7.2.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.ratelimit import Rate, RateLimiter
from runtime.settings import Settings

_UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class TokenLimits:
    per_address: Rate
    per_client: Rate
    concurrency: int
    queue: int

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.queue < 0:
            raise ValueError("token hashing needs a concurrency of 1 or more and a queue >= 0")

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenLimits:
        return cls(
            per_address=Rate(settings.token_rate_per_address, settings.token_burst_per_address),
            per_client=Rate(settings.token_rate_per_client, settings.token_burst_per_client),
            concurrency=settings.token_concurrency,
            queue=settings.token_queue,
        )


def address_key(host: str | None) -> str:
    """The bucket of a source address: IPv4 as is, IPv6 by its /64."""
    if not host:
        return _UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _UNKNOWN_ADDRESS
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_key(client_id: str) -> str:
    # Ids come from the request, of any length: the bucket is named by a digest, never by the
    # id itself, so neither memory nor a store key grows with what a stranger sends.
    return hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Overloaded(Exception):
    """Every hashing slot is busy and the waiting line is full."""


class TokenAdmission:
    """The per-process gate in front of client authentication."""

    def __init__(self, limiter: RateLimiter, limits: TokenLimits) -> None:
        self._limiter = limiter
        self._limits = limits
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._waiting = 0

    @property
    def limits(self) -> TokenLimits:
        return self._limits

    async def address_wait(self, host: str | None) -> float | None:
        """None if this address may ask now; otherwise seconds until it may."""
        key = "token:address:" + address_key(host)
        return await self._limiter.take(key, self._limits.per_address)

    async def client_wait(self, client_id: str) -> float | None:
        """None if this client id may be tried now; otherwise seconds until it may."""
        key = "token:client:" + client_key(client_id)
        return await self._limiter.take(key, self._limits.per_client)

    @asynccontextmanager
    async def hashing(self) -> AsyncIterator[None]:
        """A hashing slot for the duration of the block; raises ``Overloaded`` at once when
        the line is full."""
        if self._slots.locked() and self._waiting >= self._limits.queue:
            raise Overloaded
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()
