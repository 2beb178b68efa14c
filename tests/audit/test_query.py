"""The read side: filters, keyset pagination, statistics, and each anomaly rule."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from audit import (
    AnomalyRules,
    AuditEntry,
    AuditFilter,
    AuditLog,
    AuditReader,
    DayCount,
    Stored,
)
from audit.buckets import PARIS, day_span
from audit.database import AuditDatabase
from tests.audit.conftest import T0, make_entry

CLIENTS = ("caf-app", "ccas-app", "dept-app")
PURPOSES = ("rsa_instruction", "css_renewal")
OUTCOMES = ("released", "partial", "refused", "failed")


def varied(n: int) -> AuditEntry:
    """Entries spread over clients, purposes, outcomes, kinds, persons and three days."""
    outcome = OUTCOMES[n % 4]
    return make_entry(
        n,
        client=CLIENTS[n % 3],
        purpose=PURPOSES[n % 2],
        outcome=outcome,
        denied=(("tax_income", "not_needed"),) if outcome == "partial" else (),
        kind="audit_query" if n % 10 == 9 else "person_access",
        person=f"pseudo-{n % 5}",
        time=T0 + timedelta(hours=n),  # 60 entries: from day 0 08:00 to day 2 19:00
    )


ALL = tuple(varied(n) for n in range(60))


@pytest.fixture
async def filled(log: AuditLog) -> AuditReader:
    for entry in ALL:
        await log.append(entry)
    return AuditReader(log._db)


async def walk(reader: AuditReader, flt: AuditFilter, first: int) -> list[Stored]:
    seen: list[Stored] = []
    after = None
    while True:
        page = await reader.entries(flt, first=first, after=after)
        seen += page.items
        assert len(page.items) <= first
        if page.next_after is None:
            return seen
        after = page.next_after


@pytest.mark.parametrize(
    "flt",
    [
        AuditFilter(),
        AuditFilter(client="ccas-app"),
        AuditFilter(purpose="css_renewal"),
        AuditFilter(person="pseudo-3"),
        AuditFilter(outcome="refused"),
        AuditFilter(kind="audit_query"),
        AuditFilter(start=T0 + timedelta(hours=10), end=T0 + timedelta(hours=30)),
        AuditFilter(client="caf-app", purpose="rsa_instruction", outcome="released"),
        AuditFilter(client="nobody"),
    ],
)
async def test_filters_and_pages(filled: AuditReader, flt: AuditFilter) -> None:
    expected = [
        e
        for e in ALL
        if all(
            getattr(flt, name) in (None, getattr(e, name))
            for name in ("client", "purpose", "person", "outcome", "kind")
        )
        and (flt.start is None or e.time >= flt.start)
        and (flt.end is None or e.time < flt.end)
    ]
    seen = await walk(filled, flt, first=7)
    seqs = [s.seq for s in seen]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    assert len(seqs) == len(set(seqs))  # no duplicate across pages
    # No gap: every matching entry, decoded back to what was appended (appended in order).
    assert [s.entry for s in reversed(seen)] == expected
    assert all(s.seq == ALL.index(s.entry) + 1 for s in seen)


async def test_entries_appended_meanwhile_do_not_disturb_later_pages(
    filled: AuditReader, log: AuditLog
) -> None:
    page = await filled.entries(AuditFilter(), first=25)
    await log.append(make_entry(1000, client="caf-app"))
    rest = await walk_from(filled, page.next_after)
    assert [s.seq for s in page.items + rest] == list(range(60, 0, -1))


async def walk_from(reader: AuditReader, after: int | None) -> tuple[Stored, ...]:
    items: tuple[Stored, ...] = ()
    while after is not None:
        page = await reader.entries(AuditFilter(), first=25, after=after)
        items += page.items
        after = page.next_after
    return items


async def test_page_size_is_bounded(filled: AuditReader) -> None:
    for first in (0, 501):
        with pytest.raises(ValueError):
            await filled.entries(AuditFilter(), first=first)
    assert len((await filled.entries(AuditFilter(), first=500)).items) == 60


async def test_stats_count_accesses_and_denials_per_day(filled: AuditReader) -> None:
    # 48 hours from 08:00 UTC: three days of Paris, whose days start at 22:00 UTC in summer.
    start, end = T0, T0 + timedelta(days=2)
    stats = await filled.stats(start, end)
    accesses: dict[tuple[date, str, str], int] = {}
    denials: dict[tuple[date, str, str], int] = {}
    for e in ALL:
        if e.kind != "person_access" or not start <= e.time < end:
            continue
        key = (e.time.astimezone(PARIS).date(), e.client, e.purpose)
        accesses[key] = accesses.get(key, 0) + 1
        if e.outcome in ("refused", "partial"):
            denials[key] = denials.get(key, 0) + 1
    assert stats.accesses == tuple(
        DayCount(c, p, d, n) for (d, c, p), n in sorted(accesses.items())
    )
    assert stats.denials == tuple(DayCount(c, p, d, n) for (d, c, p), n in sorted(denials.items()))
    assert {r.day for r in stats.accesses} == {date(2025, 7, d) for d in (10, 11, 12)}


# Anomalies: each rule on a log built for it, with thresholds low enough to reason about.
RULES = AnomalyRules(distinct_persons=5, burst_factor=4, burst_minimum=10, denials_per_day=3)
DAY = datetime(2025, 7, 10, tzinfo=UTC)


def access(n: int, **changes: object) -> AuditEntry:
    """A fully released access unless told otherwise."""
    base = replace(make_entry(n), id=uuid.uuid4().hex, outcome="released", denied=())
    return replace(base, **changes)  # type: ignore[arg-type]


async def anomalies_after(db_log: AuditLog, entries: list[AuditEntry]) -> list[tuple[str, ...]]:
    for entry in entries:
        await db_log.append(entry)
    reader = AuditReader(db_log._db)
    found = await reader.anomalies(DAY, DAY + timedelta(days=1), RULES)
    return [(a.rule, a.client, str(a.count), str(a.object)) for a in found]


@pytest.mark.parametrize("persons", [4, 5])
async def test_many_persons_under_one_object(log: AuditLog, persons: int) -> None:
    entries = [
        access(0, client="trawler", object="CASE-1", person=f"p{i % persons}", time=DAY)
        for i in range(12)
    ]
    # The same persons spread over separate objects are not flagged.
    entries += [
        access(0, client="fine", object=f"CASE-{i}", person=f"p{i}", time=DAY) for i in range(8)
    ]
    found = await anomalies_after(log, entries)
    if persons >= RULES.distinct_persons:
        assert found == [("many_persons_one_object", "trawler", str(persons), "CASE-1")]
    else:
        assert found == []


@pytest.mark.parametrize("burst", [9, 40])
async def test_burst_against_median_hourly_volume(log: AuditLog, burst: int) -> None:
    entries = [
        access(0, client="app", object=f"C{h}-{i}", time=DAY + timedelta(hours=h, minutes=i))
        for h in range(6)
        for i in range(3)
    ]
    entries += [
        access(0, client="app", object=f"B{i}", time=DAY + timedelta(hours=9, seconds=i))
        for i in range(burst)
    ]
    found = await anomalies_after(log, entries)
    # Median 3 per active hour → threshold max(10, 4 × 3) = 12: 40 fires, 9 does not.
    assert found == ([("burst", "app", "40", "None")] if burst == 40 else [])


async def test_burst_window_and_threshold_are_reported(log: AuditLog) -> None:
    entries = [
        access(0, client="app", object=f"x{h}", time=DAY + timedelta(hours=h)) for h in range(5)
    ]
    entries += [
        access(0, client="app", object=f"y{i}", time=DAY + timedelta(hours=7)) for i in range(20)
    ]
    for entry in entries:
        await log.append(entry)
    (anomaly,) = await AuditReader(log._db).anomalies(DAY, DAY + timedelta(days=1), RULES)
    assert (anomaly.start, anomaly.end) == (DAY + timedelta(hours=7), DAY + timedelta(hours=8))
    assert anomaly.threshold == 10.0 and anomaly.count == 20


@pytest.mark.parametrize("refusals", [2, 3])
async def test_repeated_denials_in_a_day(log: AuditLog, refusals: int) -> None:
    entries = [
        access(0, client="prober", outcome="refused", object=f"r{i}", time=DAY)
        for i in range(refusals - 1)
    ]
    # A partial answer with denied fields counts as a denial too.
    entries.append(
        access(0, client="prober", outcome="partial", denied=(("a", "b"),), object="p", time=DAY)
    )
    # Denials on another day do not add up.
    entries += [
        access(0, client="prober", outcome="refused", object=f"o{i}", time=DAY - timedelta(hours=1))
        for i in range(5)
    ]
    found = await anomalies_after(log, entries)
    assert found == ([("repeated_denials", "prober", "3", "None")] if refusals == 3 else [])


async def test_denials_add_up_over_a_day_of_paris(log: AuditLog) -> None:
    # 00:30 and 23:30 in Paris on 10 July are 22:30 UTC on the 9th and 21:30 UTC on the 10th:
    # one day for an auditor in France, two UTC days.
    start, end = day_span(date(2025, 7, 10))
    times = [start + timedelta(minutes=30)] * 2 + [end - timedelta(minutes=30)]
    for i, at in enumerate(times):
        await log.append(access(0, client="prober", outcome="refused", object=f"r{i}", time=at))
    (anomaly,) = await AuditReader(log._db).anomalies(start, end, RULES)
    assert (anomaly.rule, anomaly.count) == ("repeated_denials", 3)
    assert (anomaly.start, anomaly.end) == (
        datetime(2025, 7, 9, 22, tzinfo=UTC),
        datetime(2025, 7, 10, 22, tzinfo=UTC),
    )


async def test_stats_days_across_the_change_of_time(log: AuditLog) -> None:
    # 26 October 2025 lasts 25 hours in Paris: from 22:00 UTC on the 25th (00:00 CEST) to
    # 23:00 UTC on the 26th (00:00 CET). A window of days around it puts each access on its
    # day of Paris, before and after the change.
    times = {
        datetime(2025, 10, 25, 21, 30, tzinfo=UTC): date(2025, 10, 25),  # 23:30 CEST
        datetime(2025, 10, 25, 22, 30, tzinfo=UTC): date(2025, 10, 26),  # 00:30 CEST
        datetime(2025, 10, 26, 22, 30, tzinfo=UTC): date(2025, 10, 26),  # 23:30 CET
        datetime(2025, 10, 26, 23, 30, tzinfo=UTC): date(2025, 10, 27),  # 00:30 CET
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC): date(2026, 3, 29),  # 01:30 CET
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC): date(2026, 3, 30),  # 00:30 CEST
    }
    for i, at in enumerate(times):
        await log.append(access(i, client="app", purpose="p", time=at))
    start, end = day_span(date(2025, 10, 1))[0], day_span(date(2026, 4, 30))[1]
    stats = await AuditReader(log._db).stats(start, end)
    assert [(r.day, r.count) for r in stats.accesses] == [
        (date(2025, 10, 25), 1),
        (date(2025, 10, 26), 2),
        (date(2025, 10, 27), 1),
        (date(2026, 3, 29), 1),
        (date(2026, 3, 30), 1),
    ]


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError):
        AnomalyRules(distinct_persons=0)
    with pytest.raises(ValueError):
        AnomalyRules(burst_factor=1)


async def test_empty_log(db: AuditDatabase) -> None:
    reader = AuditReader(db)
    page = await reader.entries(AuditFilter())
    assert (page.items, page.next_after) == ((), None)
    stats = await reader.stats(DAY, DAY + timedelta(days=1))
    assert (stats.accesses, stats.denials) == ((), ())
    assert await reader.anomalies(DAY, DAY + timedelta(days=1)) == ()
