"""Dossiers created on DS at rest, on both backends: a claim is taken once, rows expire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store import DossierLink, DossierNotFound, DossierStore, InvalidRecord, connect, migrate
from store.offers import InvalidTransition
from tests.store.conftest import Target

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LINK = DossierLink(
    number=4242,
    procedure=101,
    form="rsa",
    offer_id="offer-1",
    person="pseudo-1",
    sealed="c2VhbGVk",
    access_id="entry-1",
    status="created",
    created_at=NOW,
    updated_at=NOW,
    expires_at=NOW + timedelta(days=90),
)


@pytest.fixture
async def store(target: Target, request: pytest.FixtureRequest) -> AsyncIterator[DossierStore]:
    # Numbers are DS's, not ours to make unique: each test gets a PostgreSQL schema of its own.
    schema = target.schema and request.getfixturevalue("postgres").fresh_schema()
    database = await connect(target.url, schema=schema)
    await migrate(database)
    yield DossierStore(database)
    await database.aclose()


async def test_a_link_is_created_once(store: DossierStore) -> None:
    assert await store.create(LINK) == LINK
    assert await store.get(4242) == LINK
    with pytest.raises(InvalidRecord):
        await store.create(replace(LINK, person="pseudo-2"))
    assert (await store.get(4242)).person == "pseudo-1"
    with pytest.raises(DossierNotFound):
        await store.get(1)
    big = replace(LINK, number=3_000_000_000, offer_id=None)  # DS's numbers outgrow 32 bits
    assert await store.create(big) == big
    # The fields it was created with a value for, as ids.
    sent = replace(LINK, number=7, sent=("adresse", "loyer_mensuel"))
    await store.create(sent)
    assert (await store.get(7)).sent == ("adresse", "loyer_mensuel")


async def test_two_deliveries_claim_once(store: DossierStore) -> None:
    await store.create(LINK)
    later = NOW + timedelta(hours=1)
    claims = await asyncio.gather(store.claim(4242, later), store.claim(4242, later))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].status == "submitted" and won[0].updated_at == later
    assert await store.claim(4242, later) is None
    with pytest.raises(DossierNotFound):
        await store.claim(1, later)


async def test_a_failed_dossier_can_be_claimed_again(store: DossierStore) -> None:
    await store.create(LINK)
    assert await store.claim(4242, NOW) is not None
    failed = await store.finish(4242, "failed", NOW + timedelta(minutes=1))
    assert failed.status == "failed"
    again = await store.claim(4242, NOW + timedelta(minutes=2))
    assert again is not None and again.status == "submitted"
    done = await store.finish(4242, "processed", NOW + timedelta(minutes=3))
    assert done.status == "processed" and done.updated_at == NOW + timedelta(minutes=3)
    assert await store.claim(4242, NOW + timedelta(minutes=4)) is None
    with pytest.raises(InvalidTransition):
        await store.finish(4242, "failed", NOW)
    with pytest.raises(InvalidTransition):
        await store.finish(4242, "created", NOW)
    with pytest.raises(DossierNotFound):
        await store.finish(1, "processed", NOW)


async def test_a_rejected_dossier_keeps_why_and_is_claimed_again_on_a_change(
    store: DossierStore,
) -> None:
    await store.create(LINK)
    assert await store.claim(4242, NOW) is not None
    why = {"rejected": {"code": "BAD_USER_INPUT", "reason": "invalid", "fields": ["loyer"]}}
    rejected = await store.finish(4242, "rejected", NOW + timedelta(minutes=1), outcome=why)
    assert (rejected.status, rejected.outcome) == ("rejected", why)
    # Not among the pending ones a pass retries: only DS telling of a change claims it.
    assert await store.pending(NOW + timedelta(days=1)) == []
    again = await store.claim(4242, NOW + timedelta(minutes=2))
    assert again is not None and again.status == "submitted"


async def test_the_rejected_status_survives_the_migration_of_existing_rows(
    target: Target, request: pytest.FixtureRequest
) -> None:
    # A database at 0011 with a dossier in it, brought to head: the row is kept, and the
    # status check takes "rejected" and still refuses what is no status.
    from alembic import command
    from sqlalchemy import select, update

    from database.migration import _config
    from store.migration import _INI
    from store.tables import ds_dossiers

    schema = target.schema and request.getfixturevalue("postgres").fresh_schema()
    database = await connect(target.url, schema=schema)

    def to(revision: str, move: Any = command.upgrade) -> Any:
        def run(connection: Any) -> None:
            config = _config(_INI)
            config.attributes["connection"] = connection
            config.attributes["schema"] = schema
            move(config, revision)

        return run

    try:
        async with database.transaction() as conn:
            await conn.run_sync(to("0011"))
        store = DossierStore(database)
        # A row as 0011 knew it (no "sent" column yet).
        before = {k: v for k, v in vars(LINK).items() if k not in ("sent", "outcome")}
        async with database.transaction() as conn:
            await conn.execute(ds_dossiers.insert().values(before))
        async with database.transaction() as conn:
            await conn.run_sync(to("head"))
        assert await store.get(4242) == LINK
        assert await store.claim(4242, NOW) is not None
        assert (await store.finish(4242, "rejected", NOW)).status == "rejected"
        with pytest.raises(Exception, match="refused the record"):
            async with database.transaction() as conn:
                await conn.execute(update(ds_dossiers).values(status="bogus"))
        # And back: a rejected dossier becomes failed (retried), the row kept.
        async with database.transaction() as conn:
            await conn.run_sync(to("0011", command.downgrade))
        async with database.connection() as conn:
            status = (await conn.execute(select(ds_dossiers.c.status))).scalar_one()
        assert status == "failed"
        async with database.transaction() as conn:
            await conn.run_sync(to("head"))
    finally:
        await database.aclose()


async def test_pending_and_purge(store: DossierStore) -> None:
    await store.create(LINK)
    await store.create(replace(LINK, number=1, updated_at=NOW - timedelta(days=1)))
    await store.create(replace(LINK, number=2, expires_at=NOW + timedelta(days=1)))
    await store.create(replace(LINK, number=3, status="processed"))
    assert [d.number for d in await store.pending(NOW)] == [1]
    assert [d.number for d in await store.pending(NOW + timedelta(seconds=1))] == [1, 2, 4242]
    assert await store.purge(NOW + timedelta(days=2)) == 1
    assert await store.purge(NOW + timedelta(days=2)) == 0
    with pytest.raises(DossierNotFound):
        await store.get(2)
    assert await store.purge(NOW + timedelta(days=91)) == 3


@pytest.mark.parametrize(
    "bad",
    [
        replace(LINK, number=0),
        replace(LINK, person=""),
        replace(LINK, sealed=""),
        replace(LINK, status="gone"),  # type: ignore[arg-type]
        replace(LINK, expires_at=datetime(2026, 6, 1)),
    ],
)
async def test_invalid_links_are_refused(store: DossierStore, bad: DossierLink) -> None:
    with pytest.raises(InvalidRecord):
        await store.create(bad)
