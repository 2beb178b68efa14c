"""The read side, for auditors and citizens: filtered pages, statistics, anomalies.

Pages are newest first with keyset pagination on seq: ``after`` is the seq of the last item
of the previous page, so a page never repeats or skips an entry however many are appended
meanwhile (new entries get higher seqs and belong to earlier pages). Entries are decoded from
their canonical bytes, the hashed source of truth; the filter columns only select them.
Time windows are ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, case, func, select

from audit import tables
from audit.anomalies import Anomaly, AnomalyRules, find_anomalies
from audit.buckets import day_bucket, day_of
from audit.campaigns import Campaign, declare, declared
from audit.database import AuditDatabase
from audit.entry import AuditEntry
from audit.export import ExportFormat, stream
from audit.folding import not_corrected
from audit.status import TAIL, ChainStatus, chain_status

MAX_PAGE = 500
DEFAULT_RULES = AnomalyRules()  # frozen: one shared default is safe
_E = tables.entries.c


_EXACT = ("client", "purpose", "person", "object", "recipient", "outcome", "kind")


@dataclass(frozen=True)
class AuditFilter:
    """Every given field must match (all of them: the conditions are joined by AND).

    ``person`` is the audit-sector pseudonym, never an identity; ``object`` the case
    reference, compared exactly; ``recipient`` the SIRET of the body that used the data.
    ``clients`` and ``kinds`` match any of their values (an organisation's clients, the kinds
    a citizen's journal shows); an empty tuple matches nothing. Each exact field has an
    index that walks seq newest first (``audit.tables``).
    """

    client: str | None = None
    purpose: str | None = None
    person: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None
    kind: str | None = None
    kinds: tuple[str, ...] | None = None  # any of these kinds
    object: str | None = None
    recipient: str | None = None
    clients: tuple[str, ...] | None = None  # any of these clients
    # False: entries a later entry corrects are selected too (audit.folding); the readers'
    # pages show a correction in their place.
    folded: bool = True

    def conditions(self, upto: int | None = None) -> list[ColumnElement[bool]]:
        """The filter's SQL conditions; ``upto``: the last position the reader will read,
        past which corrections are not counted (``audit.folding``)."""
        found: list[ColumnElement[bool]] = [not_corrected(upto)] if self.folded else []
        for name in _EXACT:
            value = getattr(self, name)
            if value is not None:
                found.append(_E[name] == value)
        if self.kinds is not None:
            found.append(_E.kind.in_(self.kinds))
        if self.clients is not None:
            found.append(_E.client.in_(self.clients))
        if self.start is not None:
            found.append(_E.time >= self.start)
        if self.end is not None:
            found.append(_E.time < self.end)
        return found


@dataclass(frozen=True)
class Stored:
    seq: int
    entry: AuditEntry


@dataclass(frozen=True)
class Page:
    items: tuple[Stored, ...]
    next_after: int | None  # pass as ``after`` for the next page; None on the last page


@dataclass(frozen=True)
class DayCount:
    client: str
    purpose: str
    day: date  # UTC
    count: int


@dataclass(frozen=True)
class Stats:
    """Person accesses per (client, purpose, UTC day), and among them those refused or with
    at least one denied field. Sorted by day, client, purpose."""

    accesses: tuple[DayCount, ...]
    denials: tuple[DayCount, ...]


class AuditReader:
    """``witness_file``: where the log's witness file is, for the cosignatures that
    :meth:`chain_status` reports; None: they are not looked for."""

    def __init__(self, db: AuditDatabase, *, witness_file: Path | None = None) -> None:
        self._db = db
        self._witness_file = witness_file

    async def entries(
        self, filter: AuditFilter, *, first: int = 50, after: int | None = None
    ) -> Page:
        if not 1 <= first <= MAX_PAGE:
            raise ValueError(f"first is between 1 and {MAX_PAGE}")
        conditions = filter.conditions()
        if after is not None:
            conditions.append(_E.seq < after)
        # One more row than asked tells whether another page follows.
        query = (
            select(_E.seq, _E.canonical).where(*conditions).order_by(_E.seq.desc()).limit(first + 1)
        )
        async with self._db.connection() as conn:
            rows = (await conn.execute(query)).all()
        items = tuple(
            Stored(int(seq), AuditEntry.from_canonical(bytes(canonical)))
            for seq, canonical in rows[:first]
        )
        return Page(items, items[-1].seq if len(rows) > first else None)

    async def correction_of(self, entry_id: str) -> Stored | None:
        """The entry that corrects the entry ``entry_id``, if any (audit.folding)."""
        query = select(_E.seq, _E.canonical).where(_E.corrects == entry_id).limit(1)
        async with self._db.connection() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Stored(int(row[0]), AuditEntry.from_canonical(bytes(row[1])))

    async def stats(self, start: datetime, end: datetime) -> Stats:
        day = day_bucket(self._db.backend, _E.time, start, end)
        denied = func.sum(case((_E.outcome == "refused", 1), (_E.denials > 0, 1), else_=0))
        query = (
            select(day, _E.client, _E.purpose, func.count(), denied)
            .where(_E.kind == "person_access", _E.time >= start, _E.time < end, not_corrected())
            .group_by(day, _E.client, _E.purpose)
            .order_by(day, _E.client, _E.purpose)
        )
        async with self._db.connection() as conn:
            rows = (await conn.execute(query)).all()
        accesses = tuple(DayCount(c, p, day_of(d), int(n)) for d, c, p, n, _ in rows)
        denials = tuple(DayCount(c, p, day_of(d), int(k)) for d, c, p, _, k in rows if k)
        return Stats(accesses, denials)

    async def anomalies(
        self, start: datetime, end: datetime, rules: AnomalyRules = DEFAULT_RULES
    ) -> tuple[Anomaly, ...]:
        return await find_anomalies(self._db, start, end, rules)

    async def seen(self, column: str, value: str) -> bool:
        """Whether any entry has ``value`` in ``column`` (client, purpose): one index probe,
        so that a filter on a client or purpose gone from the catalogue is still accepted
        when the log knows it."""
        if column not in ("client", "purpose"):
            raise ValueError("seen() looks at the client or purpose column")
        query = select(_E.seq).where(_E[column] == value).limit(1)
        async with self._db.connection() as conn:
            return (await conn.execute(query)).first() is not None

    async def declare_campaign(self, campaign: Campaign) -> None:
        await declare(self._db, campaign)

    async def campaigns(self) -> tuple[Campaign, ...]:
        return await declared(self._db)

    def export(self, filter: AuditFilter, format: ExportFormat) -> AsyncIterator[str]:
        return stream(self._db, filter, format)

    async def chain_status(self, *, tail: int = TAIL) -> ChainStatus:
        return await chain_status(self._db, witness_file=self._witness_file, tail=tail)
