"""Wiring: settings in, one client per upstream and one connector per agency out."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from connectors.breaker import CircuitBreaker
from connectors.cache import Cache, MemoryCache, NoCache, RedisCache
from connectors.civil_registry import CivilRegistry
from connectors.cnaf import Cnaf
from connectors.cnam import Cnam
from connectors.cnav import Cnav
from connectors.cnous import Cnous
from connectors.dgfip import Dgfip
from connectors.events import EventFeed
from connectors.france_travail import FranceTravail
from connectors.gip_mds import GipMds
from connectors.housing import HousingAgency
from connectors.http import StaticToken, UpstreamClient
from connectors.mesri import Mesri
from connectors.oauth import ClientCredentials
from connectors.transport import AiohttpTransport, Transport
from connectors.wire import WireTransport

UPSTREAMS = ("api_particulier", "gip_mds", "dgfip", "cnav", "cnam", "housing", "civil_registry")
# The agency named in errors and feeds for each upstream.
PROVIDERS = {
    "api_particulier": "API Particulier",
    "gip_mds": "GIP-MDS",
    "dgfip": "DGFIP",
    "cnav": "CNAV",
    "cnam": "CNAM",
    "housing": "CAF",
    "civil_registry": "INSEE",
}


@dataclass(frozen=True)
class UpstreamConfig:
    name: str
    url: str
    timeout: float
    pool_size: int
    # Settings get logged; credentials must not be, hence repr=False.
    token: str | None = field(default=None, repr=False)  # API Particulier's static token
    client_id: str | None = None  # OAuth2 client credentials of "our" agencies
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ConnectorConfig:
    upstreams: Mapping[str, UpstreamConfig]
    cache_ttl: float = 300.0
    cache_size: int = 10_000
    redis_url: str | None = None
    redis_prefix: str = "unefois:cache:"
    transport: str = "wire"  # one of TRANSPORTS


# The HTTP clients an upstream call can go through (docs/agencies.md).
TRANSPORTS = ("aiohttp", "wire")


def open_transport(kind: str, pool_size: int) -> Transport:
    if kind == "wire":
        return WireTransport(pool_size)
    if kind == "aiohttp":
        return AiohttpTransport(pool_size)
    raise ValueError(f"unknown upstream transport: {kind}")


def _client(
    cfg: UpstreamConfig, monotonic: Callable[[], float], transport: str = "wire"
) -> UpstreamClient:
    client = UpstreamClient(
        cfg.name,
        cfg.url,
        provider=PROVIDERS.get(cfg.name, cfg.name),
        timeout=cfg.timeout,
        pool_size=cfg.pool_size,
        breaker=CircuitBreaker(clock=monotonic),
        monotonic=monotonic,
        transport=open_transport(transport, cfg.pool_size),
    )
    if cfg.token is not None:
        client.auth = StaticToken(cfg.token)
    elif cfg.client_id is not None and cfg.client_secret is not None:
        client.auth = ClientCredentials(client, cfg.client_id, cfg.client_secret, clock=monotonic)
    return client


class Connectors:
    """Every agency connector, sharing one cache; built once per process."""

    def __init__(
        self,
        clients: Mapping[str, UpstreamClient],
        cache: Cache,
        clock: Callable[[], datetime],
        ttl: float,
    ) -> None:
        missing = [name for name in UPSTREAMS if name not in clients]
        if missing:
            raise ValueError("missing upstream configuration: " + ", ".join(missing))
        self._clients = dict(clients)
        self._cache = cache
        api = clients["api_particulier"]
        self.cnaf = Cnaf(api, cache, clock, ttl=ttl)
        self.france_travail = FranceTravail(api, cache, clock, ttl=ttl)
        self.mesri = Mesri(api, cache, clock, ttl=ttl)
        self.cnous = Cnous(api, cache, clock, ttl=ttl)
        self.gip_mds = GipMds(clients["gip_mds"], cache, clock, ttl=ttl)
        self.dgfip = Dgfip(clients["dgfip"], cache, clock, ttl=ttl)
        self.cnav = Cnav(clients["cnav"], cache, clock, ttl=ttl)
        self.cnam = Cnam(clients["cnam"], cache, clock, ttl=ttl)
        self.housing = HousingAgency(clients["housing"], cache, clock, ttl=ttl)
        self.civil_registry = CivilRegistry(clients["civil_registry"], cache, clock, ttl=ttl)
        self.feeds = {
            name: EventFeed(client, PROVIDERS.get(name, name)) for name, client in clients.items()
        }

    @classmethod
    def from_config(
        cls,
        config: ConnectorConfig,
        clock: Callable[[], datetime],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Connectors:
        clients = {
            name: _client(cfg, monotonic, config.transport)
            for name, cfg in config.upstreams.items()
        }
        cache: Cache
        if config.redis_url:
            cache = RedisCache(config.redis_url, prefix=config.redis_prefix)
        elif config.cache_size > 0 and config.cache_ttl > 0:
            cache = MemoryCache(config.cache_size, timer=monotonic)
        else:
            cache = NoCache()
        return cls(clients, cache, clock, config.cache_ttl)

    @property
    def cache(self) -> Cache:
        """The cache every connector shares (its health is the process's to report)."""
        return self._cache

    def circuits(self) -> dict[str, str]:
        """Upstream name → ``closed``/``open``/``half_open``, for readiness checks."""
        return {name: client.circuit for name, client in self._clients.items()}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        await self._cache.aclose()
