"""The offer store as the gateway's pages and the prefill submissions use it.

Opened in the application's lifespan, after the consent store has migrated the database.
"""

from __future__ import annotations

from datetime import datetime

from store import Database, Offer, OfferStore, StoreUnavailable, connect


class StartedOffers:
    def __init__(self, url: str, schema: str | None) -> None:
        self._url, self._schema = url, schema
        self._database: Database | None = None
        self._store: OfferStore | None = None

    async def start(self) -> None:
        self._database = await connect(self._url, schema=self._schema)
        self._store = OfferStore(self._database)

    async def aclose(self) -> None:
        if self._database is not None:
            await self._database.aclose()

    def _started(self) -> OfferStore:
        if self._store is None:
            raise StoreUnavailable("the offer store is not started")
        return self._store

    async def get(self, offer_id: str) -> Offer:
        return await self._started().get(offer_id)

    async def opened(self, offer_id: str, at: datetime) -> Offer:
        return await self._started().opened(offer_id, at)

    async def declined(self, offer_id: str, at: datetime) -> Offer:
        return await self._started().declined(offer_id, at)

    async def applied(self, person: str, benefit: str, at: datetime) -> int:
        return await self._started().applied(person, benefit, at)

    async def opt_out(self, person: str, at: datetime) -> None:
        await self._started().opt_out(person, at)
