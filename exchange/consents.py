"""Citizens' consents: granting, revoking, listing — filed under the consent pseudonym only.

A revocation is written before the answer returns; the next request reads the store again
(consents are never cached), so it takes effect at once, whatever the agency cache holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol

from audit import AuditEntry
from exchange.auditing import Auditor, new_decision_id
from exchange.caller import Citizen
from exchange.errors import InvalidRequest
from exchange.pseudonyms import CONSENT_SECTOR, Pseudonyms
from policies import Catalogue
from policies import Consent as Consent  # re-exported: the pages list consents
from store import ConsentNotFound

MAX_VALIDITY = timedelta(days=730)


class ConsentStore(Protocol):
    async def grant(self, consent: Consent) -> Consent: ...

    async def revoke(self, person: str, consent_id: str, at: datetime) -> Consent: ...

    async def for_person(self, person: str) -> list[Consent]: ...


class ConsentNotFoundError(InvalidRequest):
    code = "NOT_FOUND"


class Consents:
    def __init__(
        self,
        store: ConsentStore,
        catalogue: Catalogue,
        pseudonyms: Pseudonyms,
        auditor: Auditor,
        *,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._auditor = auditor
        self._store = store
        self._catalogue = catalogue
        self._pseudonyms = pseudonyms
        self._new_id = new_id

    def _person(self, citizen: Citizen) -> str:
        return self._pseudonyms.pseudonym(citizen.identity, CONSENT_SECTOR)

    async def grant(
        self,
        citizen: Citizen,
        *,
        client_id: str | None,
        purpose: str | None,
        categories: Sequence[str],
        until: date,
        now: datetime,
    ) -> Consent:
        self._check(client_id, purpose, categories, until, now.date())
        consent = Consent(
            id=self._new_id(),
            person=self._person(citizen),
            client_id=client_id,
            purpose=purpose,
            categories=frozenset(categories),
            granted_at=now,
            valid_from=now.date(),
            valid_until=until,
        )
        details = {
            "action": "grant",
            "consent": consent.id,
            "to": client_id or f"purpose:{purpose}",
            "categories": ",".join(sorted(consent.categories)),
            "until": until.isoformat(),
        }
        return await self._recorded(
            citizen, purpose, details, lambda: self._store.grant(consent), now
        )

    async def revoke(self, citizen: Citizen, consent_id: str, now: datetime) -> Consent:
        details = {"action": "revoke", "consent": consent_id}
        try:
            person = self._person(citizen)
            return await self._recorded(
                citizen, None, details, lambda: self._store.revoke(person, consent_id, now), now
            )
        except ConsentNotFound:
            raise ConsentNotFoundError("no consent of yours has this id") from None

    async def _recorded(
        self,
        citizen: Citizen,
        purpose: str | None,
        details: dict[str, str],
        change: Callable[[], Awaitable[Consent]],
        now: datetime,
    ) -> Consent:
        """Record the change before making it (fail closed), and its failure if it fails."""
        entry = AuditEntry(
            id=new_decision_id(),
            time=now,
            kind="consent_change",
            client="citizen",
            caller="citizen",
            purpose=purpose or "consent",
            recipient=None,
            object=None,
            legal_basis=None,
            person=self._auditor.person_of(citizen.identity),
            released=(),
            denied=(),
            agencies=(),
            outcome="released",
            policy_revision=self._catalogue.revision,
            details=tuple(sorted(details.items())),
        )
        await self._auditor.append(entry)
        try:
            return await change()
        except BaseException:
            failed = replace(entry, id=new_decision_id(), outcome="failed")
            await self._auditor.append(failed)
            raise

    async def mine(self, citizen: Citizen) -> list[Consent]:
        return await self._store.for_person(self._person(citizen))

    def _check(
        self,
        client_id: str | None,
        purpose: str | None,
        categories: Sequence[str],
        until: date,
        today: date,
    ) -> None:
        if (client_id is None) == (purpose is None):
            raise InvalidRequest("a consent is given to one client or for one purpose")
        if client_id is not None and client_id not in self._catalogue.clients:
            raise InvalidRequest(f"unknown client {client_id!r}")
        if purpose is not None:
            known = self._catalogue.purposes.get(purpose)
            if known is None:
                valid = tuple(consent_purposes(self._catalogue, today))
                raise InvalidRequest(
                    f"unknown purpose {purpose!r}; the purposes a consent may be given for: "
                    + (", ".join(valid) or "none"),
                    valid_purposes=valid,
                )
            if known.lawful_ground != "consent":
                raise InvalidRequest(
                    f"purpose {purpose!r} does not rest on consent: it needs none, "
                    "and a consent would change nothing"
                )
        unknown = sorted(set(categories) - self._catalogue.categories.keys())
        if not categories or unknown:
            raise InvalidRequest(
                "give one or more data categories among "
                + ", ".join(sorted(self._catalogue.categories))
            )
        if until < today or until > today + MAX_VALIDITY:
            raise InvalidRequest(f"until must be between today and {MAX_VALIDITY.days} days ahead")


def consent_purposes(catalogue: Catalogue, today: date) -> list[str]:
    """The purposes that rest on the person's consent and are in force."""
    return sorted(
        pid
        for pid, purpose in catalogue.purposes.items()
        if purpose.lawful_ground == "consent" and purpose.in_force(today)
    )


def consent_targets(catalogue: Catalogue, today: date) -> dict[str, tuple[str, str]]:
    """What a consent may be given to: ``client:<id>`` for each client of a consent purpose,
    ``purpose:<id>`` for each consent purpose → (kind, label)."""
    purposes = consent_purposes(catalogue, today)
    targets: dict[str, tuple[str, str]] = {}
    for client in sorted(catalogue.clients.values(), key=lambda c: c.name):
        if any(catalogue.client_may_use(client.id, pid) for pid in purposes):
            targets["client:" + client.id] = ("client", client.name)
    for pid in purposes:
        targets["purpose:" + pid] = ("purpose", catalogue.purposes[pid].label)
    return targets


def consent_categories(catalogue: Catalogue, today: date) -> list[str]:
    """The categories a consent can open: those some consent purpose may release today."""
    granted: set[str] = set()
    for pid in consent_purposes(catalogue, today):
        granted |= catalogue.purposes[pid].categories_on(today)
    return [cid for cid in catalogue.categories if cid in granted]
