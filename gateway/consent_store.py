"""The consent store as the services see it, opened when the application starts.

The services are built with the application; the database is opened (and migrated) in its
lifespan, inside the event loop. This holder bridges the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from policies import Consent
from store import (
    ConsentStore,
    Database,
    StoredSubmission,
    StoreUnavailable,
    SubmissionStore,
    connect,
    migrate,
)


class StartedConsentStore:
    def __init__(self, url: str, schema: str | None) -> None:
        self._url = url
        self._schema = schema
        self._database: Database | None = None
        self._store: ConsentStore | None = None
        self.submissions: SubmissionStore | None = None

    async def start(self) -> None:
        self._database = await connect(self._url, schema=self._schema)
        await migrate(self._database)
        self._store = ConsentStore(self._database)
        self.submissions = SubmissionStore(self._database)

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


class StartedSubmissions:
    """The prefill-submission store of a started :class:`StartedConsentStore` (one database)."""

    def __init__(self, holder: StartedConsentStore) -> None:
        self._holder = holder

    def _open(self) -> SubmissionStore:
        if self._holder.submissions is None:
            raise StoreUnavailable("the store is not started")
        return self._holder.submissions

    async def record(self, submission: StoredSubmission) -> StoredSubmission:
        return await self._open().record(submission)

    async def for_person(self, person: str) -> Sequence[StoredSubmission]:
        return await self._open().for_person(person)
