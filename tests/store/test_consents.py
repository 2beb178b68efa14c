"""ConsentStore on both backends: grant, read, revoke, and what a person can never reach."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from policies.model import Consent
from store import ConsentNotFound, ConsentStore, InvalidRecord, connect, migrate
from tests.store.conftest import Target

GRANTED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
FROM = date(2025, 4, 1)
UNTIL = date(2025, 9, 30)
PARIS = timezone(timedelta(hours=2))


def consent(
    person: str,
    *,
    client_id: str | None = "caf-paris",
    purpose: str | None = None,
    categories: frozenset[str] = frozenset({"income", "family"}),
    granted_at: datetime = GRANTED,
) -> Consent:
    return Consent(
        id="",
        person=person,
        client_id=client_id,
        purpose=purpose,
        categories=categories,
        granted_at=granted_at,
        valid_from=FROM,
        valid_until=UNTIL,
    )


async def test_grant_assigns_a_uuid4_and_reads_back(store: ConsentStore, person: str) -> None:
    granted = await store.grant(consent(person))
    assert uuid.UUID(granted.id).version == 4
    assert await store.for_person(person) == [granted]


async def test_a_given_id_is_kept_and_a_duplicate_refused(store: ConsentStore, person: str) -> None:
    given = f"consent-{uuid.uuid4()}"
    granted = await store.grant(replace(consent(person), id=given))
    assert granted.id == given
    with pytest.raises(InvalidRecord):
        await store.grant(granted)
    assert await store.for_person(person) == [granted]


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (FROM - timedelta(days=1), False),
        (FROM, True),
        (UNTIL, True),
        (UNTIL + timedelta(days=1), False),
    ],
    ids=["day-before", "valid-from", "valid-until", "day-after"],
)
async def test_active_at_the_boundaries(
    store: ConsentStore, person: str, on: date, expected: bool
) -> None:
    granted = await store.grant(consent(person))
    assert await store.active(person, on) == ([granted] if expected else [])


async def test_for_person_lists_everything_newest_first(store: ConsentStore, person: str) -> None:
    old = await store.grant(consent(person, granted_at=GRANTED - timedelta(days=30)))
    new = await store.grant(consent(person, client_id=None, purpose="rsa-instruction"))
    revoked = await store.revoke(person, old.id, GRANTED)
    assert await store.for_person(person) == [new, revoked]
    assert await store.active(person, FROM) == [new]


async def test_revocation_takes_effect_at_once(store: ConsentStore, person: str) -> None:
    granted = await store.grant(consent(person))
    assert await store.active(person, FROM) == [granted]
    revoked = await store.revoke(person, granted.id, GRANTED + timedelta(hours=1))
    assert revoked.revoked_at == GRANTED + timedelta(hours=1)
    assert await store.active(person, FROM) == []


async def test_another_person_can_neither_revoke_nor_see(store: ConsentStore, person: str) -> None:
    granted = await store.grant(consent(person))
    intruder = f"{person}-other"
    with pytest.raises(ConsentNotFound):
        await store.revoke(intruder, granted.id, GRANTED)
    assert await store.for_person(intruder) == []
    assert await store.active(intruder, FROM) == []
    assert await store.for_person(person) == [granted]
    assert await store.active(person, FROM) == [granted]


async def test_revoking_an_unknown_consent(store: ConsentStore, person: str) -> None:
    with pytest.raises(ConsentNotFound):
        await store.revoke(person, str(uuid.uuid4()), GRANTED)


async def test_revoking_twice_keeps_the_first_time(store: ConsentStore, person: str) -> None:
    granted = await store.grant(consent(person))
    first = await store.revoke(person, granted.id, GRANTED + timedelta(days=1))
    second = await store.revoke(person, granted.id, GRANTED + timedelta(days=2))
    assert second.revoked_at == first.revoked_at == GRANTED + timedelta(days=1)
    assert await store.for_person(person) == [first]


@pytest.mark.parametrize(
    ("client_id", "purpose"),
    [("caf-paris", "rsa-instruction"), (None, None)],
    ids=["both", "neither"],
)
async def test_exactly_one_of_client_and_purpose(
    store: ConsentStore, person: str, client_id: str | None, purpose: str | None
) -> None:
    with pytest.raises(InvalidRecord, match="exactly one"):
        await store.grant(consent(person, client_id=client_id, purpose=purpose))
    assert await store.for_person(person) == []


@pytest.mark.parametrize(
    "categories",
    [frozenset(), frozenset({""})],
    ids=["none", "empty-id"],
)
async def test_a_consent_covers_some_category(
    store: ConsentStore, person: str, categories: frozenset[str]
) -> None:
    with pytest.raises(InvalidRecord):
        await store.grant(consent(person, categories=categories))


async def test_naive_times_are_refused(store: ConsentStore, person: str) -> None:
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        await store.grant(consent(person, granted_at=GRANTED.replace(tzinfo=None)))
    granted = await store.grant(consent(person))
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        await store.revoke(person, granted.id, datetime(2025, 3, 15, 8, 0))
    assert (await store.for_person(person))[0].revoked_at is None


async def test_categories_and_time_zones_round_trip(store: ConsentStore, person: str) -> None:
    categories = frozenset({"revenus, fiscaux", "état civil", "a", "[json]"})
    paris = datetime(2025, 3, 14, 11, 30, 0, 123456, tzinfo=PARIS)
    granted = await store.grant(consent(person, categories=categories, granted_at=paris))
    await store.revoke(person, granted.id, datetime(2025, 3, 14, 23, 0, tzinfo=PARIS))
    (read,) = await store.for_person(person)
    assert read.categories == categories
    assert isinstance(read.categories, frozenset)
    assert read.granted_at == paris
    assert read.granted_at.tzinfo == UTC
    assert read.granted_at.hour == 9
    assert read.granted_at.microsecond == 123456
    assert read.revoked_at == datetime(2025, 3, 14, 21, 0, tzinfo=UTC)
    assert read.revoked_at is not None and read.revoked_at.tzinfo == UTC


async def test_two_concurrent_writers_lose_nothing(
    store: ConsentStore, target: Target, person: str
) -> None:
    # A second Database is a second replica: its own pool, the same tables.
    other = await connect(target.url, schema=target.schema)
    try:
        await migrate(other)
        second = ConsentStore(other)
        writes = [
            (store if i % 2 else second).grant(
                consent(person, granted_at=GRANTED + timedelta(seconds=i))
            )
            for i in range(60)
        ]
        granted = await asyncio.gather(*writes)
    finally:
        await other.aclose()
    stored = await store.for_person(person)
    assert {c.id for c in stored} == {c.id for c in granted}
    assert len(stored) == 60
    assert [c.granted_at for c in stored] == sorted((c.granted_at for c in granted), reverse=True)
