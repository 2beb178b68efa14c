"""Automatic grants at rest, on both backends: one per person, benefit and cause day; an
undone or closed grant is kept, marked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from store import Database, Grant, GrantNotFound, GrantStore, InvalidRecord

NOW = datetime(2025, 7, 10, 12, 0, tzinfo=UTC)


def grant(person: str, **changes: object) -> Grant:
    base = Grant(
        id="",
        person=person,
        benefit="css",
        cause="rsa_granted",
        cause_on=date(2025, 6, 1),
        agency_grant_id="abc",
        start=date(2025, 8, 1),
        end=date(2026, 8, 1),
        granted_at=NOW,
        campaign=f"css-grant-{person}",
        audit_id="entry-1",
        audit_person="audit-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(database: Database) -> GrantStore:
    return GrantStore(database)


async def test_a_grant_is_recorded_once(store: GrantStore, person: str) -> None:
    first = await store.record(grant(person))
    assert first.id and first.status == "granted" and first.ended_at is None
    assert await store.get(first.id) == first
    # A rerun (another agency id: a replay) finds the grant already there.
    assert await store.record(grant(person, agency_grant_id="other")) == first
    assert await store.find(person, "css", date(2025, 6, 1)) == first
    assert await store.find(person, "css", date(2025, 7, 1)) is None
    later = await store.record(
        grant(person, cause_on=date(2025, 9, 1), granted_at=NOW + timedelta(days=90))
    )
    assert later.id != first.id
    assert await store.for_person(person) == [later, first]
    assert await store.for_campaign(f"css-grant-{person}") == [first, later]
    assert first in await store.listing(1000)


async def test_revert_and_close_keep_the_row(store: GrantStore, person: str) -> None:
    first = await store.record(grant(person))
    reverted = await store.mark_reverted(first.id, NOW + timedelta(days=1))
    assert reverted.status == "reverted" and reverted.ended_at == NOW + timedelta(days=1)
    # Ended once: a later revert or close keeps the first end.
    assert await store.mark_closed(first.id, NOW + timedelta(days=2)) == reverted
    other = await store.record(grant(person, cause_on=date(2025, 9, 1)))
    closed = await store.mark_closed(other.id, NOW + timedelta(days=3))
    assert closed.status == "closed" and closed.ended_at == NOW + timedelta(days=3)


async def test_invalid_grants_and_unknown_ids(store: GrantStore, person: str) -> None:
    with pytest.raises(InvalidRecord):
        await store.record(grant(person, agency_grant_id=""))
    with pytest.raises(InvalidRecord):
        await store.record(grant(person, end=date(2025, 8, 1)))
    with pytest.raises(InvalidRecord):
        await store.record(grant(person, granted_at=NOW.replace(tzinfo=None)))
    with pytest.raises(GrantNotFound):
        await store.get("no-such-grant")
