"""The consent store as the services see it, opened when the application starts.

The services are built with the application; the database is opened (and migrated) in its
lifespan, inside the event loop. This holder bridges the two.
"""

from __future__ import annotations

from datetime import date, datetime

from policies import Consent
from store import ConsentStore, Database, StoreUnavailable, connect, migrate


class StartedConsentStore:
    def __init__(self, url: str, schema: str | None) -> None:
        self._url = url
        self._schema = schema
        self._database: Database | None = None
        self._store: ConsentStore | None = None

    async def start(self) -> None:
        self._database = await connect(self._url, schema=self._schema)
        await migrate(self._database)
        self._store = ConsentStore(self._database)

    async def aclose(self) -> None:
        if self._database is not None:
            await self._database.aclose()

    def _open(self) -> ConsentStore:
        if self._store is None:
            raise StoreUnavailable("the consent store is not started")
        return self._store

    async def grant(self, consent: Consent) -> Consent:
        return await self._open().grant(consent)

    async def revoke(self, person: str, consent_id: str, at: datetime) -> Consent:
        return await self._open().revoke(person, consent_id, at)

    async def for_person(self, person: str) -> list[Consent]:
        return await self._open().for_person(person)

    async def active(self, person: str, on: date) -> list[Consent]:
        return await self._open().active(person, on)
