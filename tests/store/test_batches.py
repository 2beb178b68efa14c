"""Campaign batches on both backends: idempotent planning, sealed persons, done once, failed
runs counted, progress summed over the done batches."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from store import Database
from store.batches import BatchNotFound, BatchStore, BatchUnreadable
from store.errors import InvalidRecord
from store.sealing import Sealer
from store.tables import campaign_batches

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
PARAMS = {"benefit": "rsa", "month": "2025-05"}


@pytest.fixture
def batches(database: Database) -> BatchStore:
    return BatchStore(database, Sealer(secrets.token_bytes(32)))


@pytest.fixture
def campaign() -> str:
    return f"rsa-{uuid.uuid4().hex[:8]}"


def persons(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"birth_name": f"PERSONNE-{i}"} for i in range(start, start + n)]


async def test_plan_is_idempotent_and_persons_are_sealed(
    batches: BatchStore, database: Database, campaign: str
) -> None:
    assert await batches.plan(campaign, "detection", PARAMS, [persons(2), persons(1, 2)], NOW)
    assert not await batches.plan(campaign, "detection", PARAMS, [persons(5)], NOW)
    assert await batches.pending(campaign) == [0, 1]
    batch = await batches.get(campaign, 1)
    assert batch.persons == [{"birth_name": "PERSONNE-2"}] and batch.parameters == PARAMS
    assert batch.kind == "detection" and batch.state == "pending" and batch.attempts == 0
    async with database.connection() as conn:
        sealed = (await conn.execute(select(campaign_batches.c.sealed))).scalars().all()
    # A name long enough that a random ciphertext cannot hold it by chance ("P0" did, once).
    assert sealed and all("PERSONNE" not in s and "birth_name" not in s for s in sealed)


async def test_a_sealed_value_moved_to_another_row_does_not_open(
    batches: BatchStore, database: Database, campaign: str
) -> None:
    await batches.plan(campaign, "detection", PARAMS, [persons(1), persons(1, 1)], NOW)
    async with database.transaction() as conn:
        first = (
            await conn.execute(
                select(campaign_batches.c.sealed).where(
                    campaign_batches.c.campaign == campaign, campaign_batches.c.number == 0
                )
            )
        ).scalar()
        await conn.execute(
            update(campaign_batches)
            .where(campaign_batches.c.campaign == campaign, campaign_batches.c.number == 1)
            .values(sealed=first)
        )
    with pytest.raises(BatchUnreadable):
        await batches.get(campaign, 1)
    with pytest.raises(BatchNotFound):
        await batches.get(campaign, 7)


async def test_finish_once_failures_counted_and_progress_summed(
    batches: BatchStore, campaign: str
) -> None:
    await batches.plan(campaign, "detection", PARAMS, [persons(3), persons(2, 3)], NOW)
    assert await batches.failed(campaign, 0, "AgencyUnavailable", NOW) == 1
    assert await batches.failed(campaign, 0, "AgencyUnavailable", NOW) == 2
    progress = await batches.progress(campaign)
    assert progress.failing == [(0, 2, "AgencyUnavailable")]
    assert (progress.batches, progress.batches_done, progress.persons) == (2, 0, 5)
    assert await batches.finish(campaign, 0, {"examined": 3, "offers_created": 1}, NOW)
    assert not await batches.finish(campaign, 0, {"examined": 3, "offers_created": 9}, NOW)
    await batches.finish(campaign, 1, {"examined": 2, "offers_created": 2}, NOW)
    progress = await batches.progress(campaign)
    assert progress.complete and progress.persons_done == 5 and progress.failing == []
    assert progress.summary == {"examined": 5, "offers_created": 3}
    assert progress.kind == "detection" and progress.parameters == PARAMS
    assert await batches.pending(campaign) == []


async def test_unknown_campaign_and_invalid_plans(batches: BatchStore, campaign: str) -> None:
    progress = await batches.progress(campaign)
    assert progress.kind is None and not progress.complete and progress.batches == 0
    with pytest.raises(InvalidRecord):
        await batches.plan(campaign, "detection", PARAMS, [[]], NOW)
    with pytest.raises(InvalidRecord):
        await batches.plan(campaign, "detection", PARAMS, [persons(1)], datetime(2025, 6, 1))
