"""Reading the audit log: auditors over everyone's accesses, citizens over their own.

Auditors are clients the catalogue allows the ``audit_control`` purpose; every query they make
(a page, statistics, anomalies, an export, the chain's status) is itself recorded, with its
filter, before its answer leaves. A person the auditor looks for by identity is recorded by
the audit pseudonym only: the identity is turned into it here and then dropped. A citizen
sees who read their data, when, why and which categories — organisation names and
plain-French purposes, never internal ids.

The auditors' API (used by GraphQL and by the console)::

    page = await oversight.log(caller, AuditQuery(object="B-2025-06"), first=50, after=None,
                               on=today)        # RecordPage: entries with names in words
    pieces = await oversight.export(caller, query, "csv", on=today)
    async for text in pieces: ...
    status = await oversight.chain_status(caller, on=today)
    found = await oversight.anomalies(caller, start, end, on=today)
    await oversight.declare_campaign(campaign)  # when a campaign starts

A filter the log cannot answer (an unknown outcome, kind, purpose, client or organisation,
a period that ends before it starts, a time without an offset) raises
:class:`InvalidRequest` naming the field and, for the closed sets, the values it accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, Protocol

import orjson

from audit import AnomalyRules, AuditEntry, AuditFilter, Page, Stored
from audit.anomalies import Anomaly
from audit.campaigns import Campaign
from audit.entry import KINDS, OUTCOMES
from audit.export import safe_cell
from audit.query import DEFAULT_RULES, Stats
from audit.status import ChainStatus
from connectors import PivotIdentity
from exchange.auditing import ABOUT, HOUSEHOLD_MEMBER, Auditor, new_decision_id
from exchange.caller import Caller, Citizen, Client
from exchange.context import siret_valid
from exchange.errors import AccessRefused, InvalidRequest
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
    "css_automatic_grant": "Ouverture automatique de votre complémentaire santé solidaire",
    "css_automatic_grant_reverted": (
        "Annulation de l'ouverture automatique de votre complémentaire santé solidaire"
    ),
    "css_automatic_grant_closed": "Clôture de votre complémentaire santé solidaire",
    "situation_update": "Mise à jour d'une proposition après un changement de situation",
}


# Who acted, for an entry a person made about themselves (as an auditor reads it).
PERSON_THEMSELVES = "La personne elle-même"
# Purposes the gateway records that are not the catalogue's: a person's own acts.
OWN_PURPOSES = {"consent": "Gestion de ses consentements par la personne"}

ExportFormat = Literal["jsonl", "csv"]
UNLISTED = "Organisme non référencé"
__all__ = [
    "AUDIT_PURPOSE",
    "OWN_PURPOSES",
    "PERSON_THEMSELVES",
    "AuditQuery",
    "Campaign",
    "ChainStatus",
    "ExportFormat",
    "Journal",
    "JournalItem",
    "Organisation",
    "Oversight",
    "Record",
    "RecordPage",
    "safe_cell",
]


class AuditReading(Protocol):
    async def entries(
        self, filter: AuditFilter, *, first: int = 50, after: int | None = None
    ) -> Page: ...

    async def correction_of(self, entry_id: str) -> Stored | None: ...

    async def stats(self, start: datetime, end: datetime) -> Stats: ...

    async def anomalies(
        self, start: datetime, end: datetime, rules: AnomalyRules = ...
    ) -> tuple[Anomaly, ...]: ...

    async def seen(self, column: str, value: str) -> bool: ...

    async def declare_campaign(self, campaign: Campaign) -> None: ...

    def export(self, filter: AuditFilter, format: ExportFormat) -> AsyncIterator[str]: ...

    async def chain_status(self) -> ChainStatus: ...


@dataclass(frozen=True)
class AuditQuery:
    """An auditor's filter: every given field must match.

    The person is ``person_handle`` (a handle the auditor's sector received),
    ``person_identity`` (the pivot identity) or ``person_pseudonym`` (the audit pseudonym a
    previous query turned an identity into: :meth:`Oversight.audit_pseudonym`, which lets a
    page keep the pseudonym rather than the identity between requests); each becomes the audit
    pseudonym, which alone is searched and recorded. ``organisation`` is an organisation's name
    as the client catalogue spells it, and stands for all its clients; ``object`` is a case
    reference, compared exactly; ``recipient`` the SIRET of the body that used the data. Times
    are aware; the period is ``[start, end)``.
    """

    client: str | None = None
    purpose: str | None = None
    person_handle: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None
    object: str | None = None
    kind: str | None = None
    recipient: str | None = None
    organisation: str | None = None
    person_identity: PivotIdentity | None = None
    person_pseudonym: str | None = None


@dataclass(frozen=True)
class Organisation:
    """The organisation behind a client, as the client catalogue names it. The catalogue
    records no SIRET for clients; an entry's ``recipient`` is the SIRET of the body the data
    was for."""

    client: str
    name: str
    listed: bool  # False: the client is no longer in the catalogue


@dataclass(frozen=True)
class Record:
    """One entry as the auditor reads it: the entry itself, with names in words."""

    seq: int
    entry: AuditEntry
    organisation: Organisation
    purpose_label: str | None  # None: a purpose no longer in the catalogue
    legal_basis: tuple[str, str] | None  # (title, href), as recorded with the entry
    # The number of the entry that corrects this one (audit.folding), when it was looked for.
    corrected_by: int | None = None


@dataclass(frozen=True)
class RecordPage:
    items: tuple[Record, ...]
    next_after: int | None  # pass as ``after`` for the next page; None on the last page


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
    # The automatic act's kind (``ACTIONS``' keys: ``css_renewal``…), for a page to say how
    # to contest it; None for a read.
    act: str | None = None


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

    async def _filter(self, client: Client, query: AuditQuery) -> AuditFilter:
        """The log's filter for ``query``; :class:`InvalidRequest` for what it cannot answer."""
        catalogue = self._catalogue
        _closed("outcome", query.outcome, OUTCOMES)
        _closed("kind", query.kind, KINDS)
        if query.purpose is not None and query.purpose not in catalogue.purposes:
            if not await self._reader.seen("purpose", query.purpose):
                _closed("purpose", query.purpose, frozenset(catalogue.purposes))
        if query.client is not None and query.client not in catalogue.clients:
            if not await self._reader.seen("client", query.client):
                _closed("client", query.client, frozenset(catalogue.clients))
        clients = None
        if query.organisation is not None:
            named = {c.name for c in catalogue.clients.values()}
            _closed("organisation", query.organisation, frozenset(named))
            clients = tuple(
                sorted(c.id for c in catalogue.clients.values() if c.name == query.organisation)
            )
        if query.recipient is not None and not siret_valid(query.recipient):
            raise InvalidRequest("recipient must be a SIRET (14 digits with its Luhn key)")
        _period(query.start, query.end)
        return AuditFilter(
            client=query.client,
            purpose=query.purpose,
            person=self._person(client, query),
            start=query.start,
            end=query.end,
            outcome=query.outcome,
            kind=query.kind,
            object=query.object,
            recipient=query.recipient,
            clients=clients,
        )

    def audit_pseudonym(self, identity: PivotIdentity) -> str:
        """The audit pseudonym of a person: what ``AuditQuery.person_pseudonym`` takes."""
        return self._pseudonyms.pseudonym(identity, AUDIT_SECTOR)

    def _person(self, client: Client, query: AuditQuery) -> str | None:
        given = (query.person_handle, query.person_identity, query.person_pseudonym)
        if sum(value is not None for value in given) > 1:
            raise InvalidRequest("give the person by handle, identity or pseudonym, not several")
        if query.person_pseudonym is not None:
            return query.person_pseudonym
        identity = query.person_identity
        if query.person_handle is not None:
            identity = self._pseudonyms.open(query.person_handle, client.sector)
        return self._pseudonyms.pseudonym(identity, AUDIT_SECTOR) if identity else None

    async def _checked(
        self, caller: Caller, query: AuditQuery, on: date, what: str, **more: str
    ) -> AuditFilter:
        client = self._check_auditor(caller, on)
        flt = await self._filter(client, query)
        await self._record(client, what, {**_details(flt, query.organisation), **more})
        return flt

    async def log(
        self, caller: Caller, query: AuditQuery, *, first: int, after: int | None, on: date
    ) -> RecordPage:
        """One page of the entries ``query`` selects, newest first, with names in words."""
        flt = await self._checked(caller, query, on, "auditLog")
        page = await self._reader.entries(flt, first=first, after=after)
        items = tuple(self._record_of(s.seq, s.entry) for s in page.items)
        return RecordPage(items, page.next_after)

    async def entry(self, caller: Caller, seq: int, *, on: date) -> Record | None:
        """The entry numbered ``seq``, None if the log has none. Recorded as an auditor's
        reading of that one entry (object ``auditEntry``): its number, its id and its
        person's pseudonym, so that the log says whose access was looked at."""
        client = self._check_auditor(caller, on)
        # This entry, even one a later entry corrects (the pages show that one instead).
        page = await self._reader.entries(AuditFilter(folded=False), first=1, after=seq + 1)
        found = page.items[0] if page.items and page.items[0].seq == seq else None
        details = {"seq": str(seq)}
        if found is not None:
            details["entry"] = found.entry.id
            if found.entry.person is not None:
                details["person"] = found.entry.person
        await self._record(client, "auditEntry", details)
        if found is None:
            return None
        correction = await self._reader.correction_of(found.entry.id)
        record = self._record_of(found.seq, found.entry)
        return record if correction is None else replace(record, corrected_by=correction.seq)

    async def export(
        self,
        caller: Caller,
        query: AuditQuery,
        format: ExportFormat,
        *,
        on: date,
        shown_as: str | None = None,
    ) -> AsyncIterator[str]:
        """The entries ``query`` selects, oldest first, as CSV or JSON lines
        (:mod:`audit.export`), in pieces to stream. The export is recorded before the first
        piece is read, with ``format``, or ``shown_as`` when the caller turns the text into
        another form for the auditor (the console's spreadsheet)."""
        if format not in ("jsonl", "csv"):
            raise InvalidRequest("the export format is one of: csv, jsonl")
        flt = await self._checked(caller, query, on, "auditExport", format=shown_as or format)
        return self._reader.export(flt, format)

    async def export_records(
        self, caller: Caller, query: AuditQuery, *, on: date, shown_as: str
    ) -> AsyncIterator[Record]:
        """The entries ``query`` selects, oldest first, as records (names in words), streamed
        as the JSON Lines export is; recorded as an export with format ``shown_as`` before
        the first is read: for a page that lays them out its own way (a spreadsheet)."""
        lines = await self.export(caller, query, "jsonl", on=on, shown_as=shown_as)
        return self._records(lines)

    async def _records(self, lines: AsyncIterator[str]) -> AsyncIterator[Record]:
        pending = ""
        async for piece in lines:
            pending += piece
            *complete, pending = pending.split("\n")
            for line in complete:
                if line:
                    yield self._exported(line)
        if pending.strip():
            yield self._exported(pending)

    def _exported(self, line: str) -> Record:
        # The export embeds each entry as stored, a few characters written as escapes
        # (audit.export): parsed and read back as an entry.
        document = orjson.loads(line)
        entry = AuditEntry.from_canonical(orjson.dumps(document["entry"]))
        return self._record_of(int(document["seq"]), entry)

    async def chain_status(self, caller: Caller, *, on: date) -> ChainStatus:
        """The last full verification, the last signed checkpoint and who cosigned it, and a
        check of the entries since, made now."""
        client = self._check_auditor(caller, on)
        await self._record(client, "auditChainStatus", {})
        return await self._reader.chain_status()

    async def declare_campaign(self, campaign: Campaign) -> None:
        """Declare a campaign as it starts, so that the anomaly rules expect its bulk reads."""
        await self._reader.declare_campaign(campaign)

    def organisation(self, client_id: str) -> Organisation:
        client = self._catalogue.clients.get(client_id)
        if client is None:
            return Organisation(client_id, UNLISTED, listed=False)
        return Organisation(client_id, client.name, listed=True)

    def _record_of(self, seq: int, entry: AuditEntry) -> Record:
        purpose = self._catalogue.purposes.get(entry.purpose)
        if entry.caller == "citizen":
            # The person acting for themselves: no organisation, no catalogue entry to miss.
            organisation = Organisation(entry.client, PERSON_THEMSELVES, listed=True)
        else:
            organisation = self.organisation(entry.client)
        return Record(
            seq=seq,
            entry=entry,
            organisation=organisation,
            purpose_label=purpose.label if purpose else OWN_PURPOSES.get(entry.purpose),
            legal_basis=entry.legal_basis,
        )

    async def stats(self, caller: Caller, start: datetime, end: datetime, on: date) -> Stats:
        client = self._check_auditor(caller, on)
        _period(start, end)
        await self._record(client, "auditStats", {"from": start.isoformat(), "to": end.isoformat()})
        return await self._reader.stats(start, end)

    async def anomalies(
        self, caller: Caller, start: datetime, end: datetime, on: date
    ) -> tuple[Anomaly, ...]:
        client = self._check_auditor(caller, on)
        _period(start, end)
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
            organisation = self.organisation(entry.client).name
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
            act=dict(entry.details).get("action") if entry.kind == "automatic_act" else None,
        )


def _closed(field: str, value: str | None, valid: frozenset[str]) -> None:
    if value is not None and value not in valid:
        listed = ", ".join(sorted(valid))
        raise InvalidRequest(f"unknown {field} {value!r}; it is one of: {listed}")


def _period(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("from", start), ("to", end)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise InvalidRequest(f"'{name}' must be a date-time with its offset")
    if start is not None and end is not None and end <= start:
        raise InvalidRequest("'to' must be after 'from'")


def _details(flt: AuditFilter, organisation: str | None) -> dict[str, str]:
    """What an auditor's query is recorded with: its filter, the person by pseudonym."""
    given = {
        "client": flt.client,
        "purpose": flt.purpose,
        "person": flt.person,
        "from": flt.start.isoformat() if flt.start else None,
        "to": flt.end.isoformat() if flt.end else None,
        "outcome": flt.outcome,
        "kind": flt.kind,
        "object": flt.object,
        "recipient": flt.recipient,
        "organisation": organisation,
    }
    return {k: v for k, v in given.items() if v is not None}
