"""Declared campaigns: their bulk reads are reported as declared, every other bulk read under
one object is still flagged."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from audit import AnomalyRules, AuditEntry, AuditLog, AuditReader, Campaign, InvalidEntry

DAY = datetime(2025, 6, 2, tzinfo=UTC)
RULES = AnomalyRules(distinct_persons=5)
CAMPAIGN = Campaign(
    object="rsa-2025-06",
    client="demo-proactive",
    purpose="proactive_detection",
    start=DAY + timedelta(hours=8),
    end=DAY + timedelta(hours=20),
    declared_at=DAY + timedelta(hours=8),
    population=6,
)


def read(n: int, **changes: object) -> AuditEntry:
    base = AuditEntry(
        id=uuid.uuid4().hex,
        time=DAY + timedelta(hours=9, seconds=n),
        kind="person_access",
        client="demo-proactive",
        caller="client",
        purpose="proactive_detection",
        recipient="13002526500013",
        object="rsa-2025-06",
        legal_basis=None,
        person=f"p{n}",
        released=("identity",),
        denied=(),
        agencies=("cnaf",),
        outcome="released",
        policy_revision="rev",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def _found(log: AuditLog, entries: list[AuditEntry]) -> list[tuple[str, str, int, bool]]:
    for entry in entries:
        await log.append(entry)
    found = await AuditReader(log._db).anomalies(DAY, DAY + timedelta(days=1), RULES)
    return [
        (a.client, str(a.object), a.count, a.declared)
        for a in found
        if a.rule == "many_persons_one_object"
    ]


async def test_a_declared_campaign_is_reported_as_declared(log: AuditLog) -> None:
    await AuditReader(log._db).declare_campaign(CAMPAIGN)
    found = await _found(log, [read(i) for i in range(6)])
    assert found == [("demo-proactive", "rsa-2025-06", 6, True)]
    anomaly = (await AuditReader(log._db).anomalies(DAY, DAY + timedelta(days=1), RULES))[0]
    assert anomaly.declared_campaign == CAMPAIGN
    assert "as the campaign it declared" in anomaly.description


async def test_the_same_bulk_read_without_declaration_is_flagged(log: AuditLog) -> None:
    assert await _found(log, [read(i) for i in range(6)]) == [
        ("demo-proactive", "rsa-2025-06", 6, False)
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"client": "other-app"},
        {"purpose": "rsa_instruction"},
        {"time": DAY + timedelta(hours=21)},  # after the declared period
    ],
)
async def test_reads_outside_the_declaration_are_flagged(
    log: AuditLog, changes: dict[str, object]
) -> None:
    await AuditReader(log._db).declare_campaign(CAMPAIGN)
    entries = [read(i) for i in range(6)]  # declared: reported apart
    entries += [read(i, **changes) for i in range(10, 16)]
    found = await _found(log, entries)
    client = str(changes.get("client", "demo-proactive"))
    assert (client, "rsa-2025-06", 6, False) in found
    assert ("demo-proactive", "rsa-2025-06", 6, True) in found


async def test_declaring_again_widens_and_another_client_is_refused(log: AuditLog) -> None:
    reader = AuditReader(log._db)
    await reader.declare_campaign(CAMPAIGN)
    later = replace(
        CAMPAIGN,
        start=CAMPAIGN.start + timedelta(hours=1),
        end=DAY + timedelta(days=2),
        population=None,
    )
    await reader.declare_campaign(later)
    (stored,) = await reader.campaigns()
    assert (stored.start, stored.end, stored.population) == (CAMPAIGN.start, later.end, 6)
    with pytest.raises(InvalidEntry):
        await reader.declare_campaign(replace(CAMPAIGN, client="other-app"))
    with pytest.raises(InvalidEntry):
        replace(CAMPAIGN, end=CAMPAIGN.start)


async def test_workers_declaring_the_same_campaign_at_once_all_succeed(log: AuditLog) -> None:
    """Each worker of a campaign declares it as it starts: at once, on one database. The
    first insert wins; the others widen its row (on PostgreSQL two inserts used to race)."""
    reader = AuditReader(log._db)
    declarations = [
        replace(CAMPAIGN, end=CAMPAIGN.end + timedelta(minutes=n), population=n) for n in range(6)
    ]
    await asyncio.gather(*(reader.declare_campaign(c) for c in declarations))
    (stored,) = await reader.campaigns()
    assert (stored.start, stored.end, stored.population) == (
        CAMPAIGN.start,
        CAMPAIGN.end + timedelta(minutes=5),
        5,
    )


BURSTS = AnomalyRules(distinct_persons=1000, burst_factor=3.0, burst_minimum=20)


def _quiet_hours() -> list[AuditEntry]:
    """Two reads an hour from 10:00 to 17:00: the client's usual volume."""
    return [
        read(1000 + 10 * h + i, time=DAY + timedelta(hours=h, minutes=i), object=f"case-{h}")
        for h in range(10, 18)
        for i in range(2)
    ]


async def test_a_declared_campaign_makes_no_burst(log: AuditLog) -> None:
    await AuditReader(log._db).declare_campaign(CAMPAIGN)
    for entry in [*_quiet_hours(), *(read(i) for i in range(60))]:  # 60 reads at 09:00
        await log.append(entry)
    found = await AuditReader(log._db).anomalies(DAY, DAY + timedelta(days=1), BURSTS)
    assert [a.rule for a in found] == []


async def test_the_same_hour_without_declaration_is_a_burst(log: AuditLog) -> None:
    for entry in [*_quiet_hours(), *(read(i) for i in range(60))]:
        await log.append(entry)
    found = await AuditReader(log._db).anomalies(DAY, DAY + timedelta(days=1), BURSTS)
    assert [(a.rule, a.count, a.start.hour) for a in found] == [("burst", 60, 9)]
