"""Renewals at rest, on both backends: one per person, benefit and end; reverts kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from store import Database, InvalidRecord, Renewal, RenewalNotFound, RenewalStore

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)
RENEWAL = Renewal(
    id="",
    person="pseudo-1",
    benefit="css",
    agency_renewal_id="abc",
    previous_end=date(2025, 8, 1),
    new_end=date(2026, 8, 1),
    renewed_at=NOW,
    campaign="css-renewal-2025-07",
    audit_id="entry-1",
)


@pytest.fixture
def store(database: Database) -> RenewalStore:
    return RenewalStore(database)


async def test_a_renewal_is_recorded_once(store: RenewalStore) -> None:
    first = await store.record(RENEWAL)
    assert first.id and first.status == "renewed" and first.reverted_at is None
    assert await store.get(first.id) == first
    again = await store.record(replace(RENEWAL, agency_renewal_id="other"))
    assert again == first
    assert await store.find("pseudo-1", "css", date(2025, 8, 1)) == first
    assert await store.find("pseudo-1", "css", date(2026, 8, 1)) is None
    later = await store.record(
        replace(RENEWAL, previous_end=date(2026, 8, 1), new_end=date(2027, 8, 1))
    )
    assert later.id != first.id
    assert {r.id for r in await store.for_campaign(RENEWAL.campaign)} == {first.id, later.id}


async def test_a_revert_is_kept_and_idempotent(store: RenewalStore) -> None:
    stored = await store.record(RENEWAL)
    reverted = await store.mark_reverted(stored.id, NOW + timedelta(days=3))
    assert reverted.status == "reverted" and reverted.reverted_at == NOW + timedelta(days=3)
    twice = await store.mark_reverted(stored.id, NOW + timedelta(days=9))
    assert twice == reverted
    with pytest.raises(RenewalNotFound):
        await store.mark_reverted("nope", NOW)
    with pytest.raises(RenewalNotFound):
        await store.get("nope")


async def test_invalid_renewals_are_refused(store: RenewalStore) -> None:
    with pytest.raises(InvalidRecord):
        await store.record(replace(RENEWAL, person=""))
    with pytest.raises(InvalidRecord):
        await store.record(replace(RENEWAL, new_end=RENEWAL.previous_end))
    with pytest.raises(InvalidRecord):
        await store.record(replace(RENEWAL, renewed_at=NOW.replace(tzinfo=None)))
