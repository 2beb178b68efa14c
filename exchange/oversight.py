"""Reading the audit log: auditors over everyone's accesses, citizens over their own.

Auditors are clients the catalogue allows the ``audit_control`` purpose; every query they make
is itself recorded before its answer leaves. A citizen sees who read their data, when, why and
which categories — organisation names and plain-French purposes, never internal ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from audit import AnomalyRules, AuditEntry, AuditFilter, Page
from audit.anomalies import Anomaly
from audit.query import DEFAULT_RULES, Stats
from exchange.auditing import ABOUT, HOUSEHOLD_MEMBER, Auditor, new_decision_id
from exchange.caller import Caller, Citizen, Client
from exchange.errors import AccessRefused
from exchange.pseudonyms import AUDIT_SECTOR, Pseudonyms
from policies import Catalogue

AUDIT_PURPOSE = "audit_control"
SELF_ACCESS = "Vous-même"
# What a citizen's journal shows: the reads of their data, and the acts done for them
# without a request (an automatic renewal, its undoing).
JOURNAL_KINDS = ("person_access", "automatic_act")
# Shown with a read about the citizen made because someone else's rights were examined.
HOUSEHOLD_MEMBER_NOTE = (
    "Vos données ont été consultées en tant que membre du foyer d'une personne dont les "
    "droits étaient examinés."
)
ACTIONS = {
    "css_renewal": "Renouvellement automatique de votre complémentaire santé solidaire",
    "css_renewal_reverted": (
        "Annulation du renouvellement automatique de votre complémentaire santé solidaire"
    ),
}


class AuditReading(Protocol):
    async def entries(
        self, filter: AuditFilter, *, first: int = 50, after: int | None = None
    ) -> Page: ...

    async def stats(self, start: datetime, end: datetime) -> Stats: ...

    async def anomalies(
        self, start: datetime, end: datetime, rules: AnomalyRules = ...
    ) -> tuple[Anomaly, ...]: ...


@dataclass(frozen=True)
class AuditQuery:
    client: str | None = None
    purpose: str | None = None
    person_handle: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class JournalItem:
    """One access to the citizen's data, as the citizen reads it."""

    organisation: str
    time: datetime
    purpose: str  # the purpose's plain-French label
    legal_basis: tuple[str, str] | None  # (title, href)
    categories: tuple[str, ...]  # labels of the data categories released
    # What was done on the person's behalf without a request, in plain French; None for a
    # read of their data.
    action: str | None = None
    # Why their data was read when the request was about someone else, in plain French.
    note: str | None = None


@dataclass(frozen=True)
class Journal:
    items: tuple[JournalItem, ...]
    next_after: int | None


class Oversight:
    def __init__(
        self,
        reader: AuditReading,
        auditor: Auditor,
        catalogue: Catalogue,
        pseudonyms: Pseudonyms,
        clock: Callable[[], datetime],
    ) -> None:
        self._reader = reader
        self._auditor = auditor
        self._catalogue = catalogue
        self._pseudonyms = pseudonyms
        self._clock = clock

    def _check_auditor(self, caller: Caller, on: date) -> Client:
        purpose = self._catalogue.purposes.get(AUDIT_PURPOSE)
        if (
            not isinstance(caller, Client)
            or purpose is None
            or not purpose.in_force(on)
            or not self._catalogue.client_may_use(caller.id, AUDIT_PURPOSE)
        ):
            raise AccessRefused(f"reading the audit log needs the {AUDIT_PURPOSE} purpose")
        return caller

    async def _record(self, client: Client, what: str, details: dict[str, str]) -> None:
        purpose = self._catalogue.purposes[AUDIT_PURPOSE]
        entry = AuditEntry(
            id=new_decision_id(),
            time=self._clock(),
            kind="audit_query",
            client=client.id,
            caller="client",
            purpose=AUDIT_PURPOSE,
            recipient=None,
            object=what,
            legal_basis=(purpose.legal_basis.title, purpose.legal_basis.href),
            person=details.pop("person", None),
            released=(),
            denied=(),
            agencies=(),
            outcome="released",
            policy_revision=self._catalogue.revision,
            details=tuple(sorted(details.items())),
        )
        await self._auditor.append(entry)

    async def log(
        self, caller: Caller, query: AuditQuery, *, first: int, after: int | None, on: date
    ) -> Page:
        client = self._check_auditor(caller, on)
        person = None
        if query.person_handle is not None:
            identity = self._pseudonyms.open(query.person_handle, client.sector)
            person = self._pseudonyms.pseudonym(identity, AUDIT_SECTOR)
        details = {
            k: v
            for k, v in {
                "client": query.client,
                "purpose": query.purpose,
                "person": person,
                "from": query.start.isoformat() if query.start else None,
                "to": query.end.isoformat() if query.end else None,
                "outcome": query.outcome,
            }.items()
            if v is not None
        }
        await self._record(client, "auditLog", details)
        flt = AuditFilter(
            client=query.client,
            purpose=query.purpose,
            person=person,
            start=query.start,
            end=query.end,
            outcome=query.outcome,
        )
        return await self._reader.entries(flt, first=first, after=after)

    async def stats(self, caller: Caller, start: datetime, end: datetime, on: date) -> Stats:
        client = self._check_auditor(caller, on)
        await self._record(client, "auditStats", {"from": start.isoformat(), "to": end.isoformat()})
        return await self._reader.stats(start, end)

    async def anomalies(
        self, caller: Caller, start: datetime, end: datetime, on: date
    ) -> tuple[Anomaly, ...]:
        client = self._check_auditor(caller, on)
        details = {"from": start.isoformat(), "to": end.isoformat()}
        await self._record(client, "auditAnomalies", details)
        return await self._reader.anomalies(start, end, DEFAULT_RULES)

    async def journal(self, citizen: Citizen, *, first: int, after: int | None) -> Journal:
        person = self._pseudonyms.pseudonym(citizen.identity, AUDIT_SECTOR)
        page = await self._reader.entries(
            AuditFilter(person=person, kinds=JOURNAL_KINDS), first=first, after=after
        )
        return Journal(tuple(self._item(s.entry) for s in page.items), page.next_after)

    def _item(self, entry: AuditEntry) -> JournalItem:
        catalogue = self._catalogue
        if entry.caller == "citizen":
            organisation = SELF_ACCESS
        else:
            client = catalogue.clients.get(entry.client)
            organisation = client.name if client else "Organisme non référencé"
        purpose = catalogue.purposes.get(entry.purpose)
        categories = {catalogue.category_of(f) for f in entry.released if f in catalogue.fields}
        labels = tuple(sorted(catalogue.categories[c].label for c in categories))
        action = None
        if entry.kind == "automatic_act":
            done = dict(entry.details).get("action", "")
            action = ACTIONS.get(done, "Acte automatique")
        member = dict(entry.details).get(ABOUT) == HOUSEHOLD_MEMBER
        return JournalItem(
            organisation=organisation,
            time=entry.time,
            purpose=purpose.label if purpose else entry.purpose,
            legal_basis=entry.legal_basis,
            categories=labels,
            action=action,
            note=HOUSEHOLD_MEMBER_NOTE if member else None,
        )
