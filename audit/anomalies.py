"""Simple, documented rules that flag accesses for an auditor's closer look.

They flag; they do not judge: each anomaly says which rule, which client, how many and
against which threshold, so that the auditor can open the entries behind it. Only entries of
``rules.kind`` (person accesses by default) count. Windows are ``[start, end)``; hours are UTC
hours, days are days of France (Europe/Paris, :mod:`audit.buckets`).

- ``many_persons_one_object``: a client read at least ``distinct_persons`` distinct persons
  under one ``object`` (case reference) in the window. One case file rarely concerns that many
  people; a reference reused to trawl through persons does. Reads that a campaign declared
  beforehand covers (same client, purpose and object, inside its period:
  :mod:`audit.campaigns`) are counted apart and reported with ``declared_campaign`` set, to
  be read as expected rather than suspect; the same bulk read with no declaration, or outside
  the declared client, purpose or period, is flagged as before.
- ``burst``: in one UTC hour a client made at least ``burst_factor`` × its median hourly
  volume, and at least ``burst_minimum`` accesses. The median is taken over the hours of the
  window in which the client made any access: a client active two hours a day is compared with
  its working hours, not with its nights. The minimum keeps small clients' noise out. Reads a
  declared campaign covers are left out of these volumes (the campaign is reported by the rule
  above, as declared).
- ``repeated_denials``: a client had at least ``denials_per_day`` accesses refused or with
  denied fields in one day (Paris time): a client probing for data its purposes do not allow.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select

from audit import tables
from audit.buckets import day_bucket, day_of, day_span, hour_bucket, hour_of
from audit.campaigns import Campaign, declared
from audit.database import AuditDatabase
from audit.folding import not_corrected

_E = tables.entries.c


@dataclass(frozen=True)
class AnomalyRules:
    distinct_persons: int = 50
    burst_factor: float = 10.0
    burst_minimum: int = 100
    denials_per_day: int = 20
    kind: str = "person_access"

    def __post_init__(self) -> None:
        if min(self.distinct_persons, self.burst_minimum, self.denials_per_day) < 1:
            raise ValueError("anomaly thresholds are positive")
        if self.burst_factor <= 1:
            raise ValueError("the burst factor is above 1")


@dataclass(frozen=True)
class Anomaly:
    rule: str
    client: str
    description: str
    count: int
    threshold: float
    start: datetime
    end: datetime
    object: str | None = None
    # The campaign declaration that covers these reads: expected, not suspect.
    declared_campaign: Campaign | None = None

    @property
    def declared(self) -> bool:
        return self.declared_campaign is not None


async def find_anomalies(
    db: AuditDatabase, start: datetime, end: datetime, rules: AnomalyRules
) -> tuple[Anomaly, ...]:
    found = [
        *await _many_persons_one_object(db, start, end, rules),
        *await _bursts(db, start, end, rules),
        *await _repeated_denials(db, start, end, rules),
    ]
    return tuple(
        sorted(found, key=lambda a: (a.start, a.rule, a.client, a.object or "", a.declared))
    )


def _window(start: datetime, end: datetime, rules: AnomalyRules) -> list[ColumnElement[bool]]:
    # An entry a later one corrects counts as its correction (audit.folding).
    return [_E.kind == rules.kind, _E.time >= start, _E.time < end, not_corrected()]


def _covering() -> ColumnElement[bool]:
    """An entry and the campaign declaration that covers it (campaigns are keyed on their
    object: an entry matches at most one declaration)."""
    c = tables.campaigns.c
    return and_(
        c.object == _E.object,
        c.client == _E.client,
        c.purpose == _E.purpose,
        c.start <= _E.time,
        c.end > _E.time,
    )


async def _many_persons_one_object(
    db: AuditDatabase, start: datetime, end: datetime, rules: AnomalyRules
) -> list[Anomaly]:
    c = tables.campaigns.c
    covering = _covering()
    campaign = c.object.label("campaign")
    persons = func.count(distinct(_E.person))
    query = (
        select(_E.client, _E.object, campaign, persons, func.min(_E.time), func.max(_E.time))
        .select_from(tables.entries.outerjoin(tables.campaigns, covering))
        .where(*_window(start, end, rules), _E.object.is_not(None), _E.person.is_not(None))
        .group_by(_E.client, _E.object, campaign)
        .having(persons >= rules.distinct_persons)
    )
    async with db.connection() as conn:
        rows = (await conn.execute(query)).all()
    names = tuple(sorted({str(r.campaign) for r in rows if r.campaign is not None}))
    campaigns = {k.object: k for k in await declared(db, names)} if names else {}
    found = []
    for client, obj, name, count, first, last in rows:
        known = campaigns.get(name) if name is not None else None
        description = f"{client} read {count} distinct persons under the object {obj!r}"
        if known is not None:
            expected = "" if known.population is None else f", {known.population} expected"
            description += f", as the campaign it declared ({known.purpose}{expected})"
        found.append(
            Anomaly(
                rule="many_persons_one_object",
                client=client,
                description=description,
                count=count,
                threshold=float(rules.distinct_persons),
                start=first,
                end=last,
                object=obj,
                declared_campaign=known,
            )
        )
    return found


async def _bursts(
    db: AuditDatabase, start: datetime, end: datetime, rules: AnomalyRules
) -> list[Anomaly]:
    hour = hour_bucket(db.backend, _E.time)
    # A declared campaign's reads are its planned volume, reported with the campaign: only
    # the reads no declaration covers make a client's hourly volume.
    query = (
        select(_E.client, hour, func.count())
        .select_from(tables.entries.outerjoin(tables.campaigns, _covering()))
        .where(*_window(start, end, rules), tables.campaigns.c.object.is_(None))
        .group_by(_E.client, hour)
    )
    async with db.connection() as conn:
        rows = (await conn.execute(query)).all()
    hours: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for client, text, count in rows:
        hours[client].append((text, count))
    found = []
    for client, counts in hours.items():
        median = statistics.median(count for _, count in counts)
        threshold = max(float(rules.burst_minimum), rules.burst_factor * median)
        for text, count in counts:
            if count >= threshold:
                at = hour_of(text)
                found.append(
                    Anomaly(
                        rule="burst",
                        client=client,
                        description=(
                            f"{client} made {count} accesses in one hour, against a median "
                            f"of {median:g} per active hour"
                        ),
                        count=count,
                        threshold=threshold,
                        start=at,
                        end=at + timedelta(hours=1),
                    )
                )
    return found


async def _repeated_denials(
    db: AuditDatabase, start: datetime, end: datetime, rules: AnomalyRules
) -> list[Anomaly]:
    day = day_bucket(db.backend, _E.time, start, end)
    denied = or_(_E.outcome == "refused", _E.denials > 0)
    query = (
        select(_E.client, day, func.count())
        .where(*_window(start, end, rules), denied)
        .group_by(_E.client, day)
        .having(func.count() >= rules.denials_per_day)
    )
    async with db.connection() as conn:
        rows = (await conn.execute(query)).all()
    found = []
    for client, text, count in rows:
        at, until = day_span(day_of(text))
        found.append(
            Anomaly(
                rule="repeated_denials",
                client=client,
                description=f"{client} had {count} accesses refused or partly denied in a day",
                count=count,
                threshold=float(rules.denials_per_day),
                start=at,
                end=until,
            )
        )
    return found
