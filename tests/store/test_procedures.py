"""Registered DS procedures at rest, on both backends: one row per number, replaced whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from store import (
    InvalidRecord,
    ProcedureNotFound,
    ProcedureRecord,
    ProcedureStore,
    connect,
    migrate,
)
from tests.store.conftest import Target

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
RSA = ProcedureRecord(
    number=101,
    path="demande-rsa",
    form="rsa",
    mapping={"form": "rsa", "procedure": 101, "champs": {"nom_naissance": "Q2hhbXAtMQ"}},
    champs=[{"id": "Q2hhbXAtMQ", "type": "text", "label": "Nom « de naissance »"}],
    registered_at=NOW,
)


@pytest.fixture
async def store(target: Target, request: pytest.FixtureRequest) -> AsyncIterator[ProcedureStore]:
    # Numbers are DS's, not ours to make unique: each test gets a PostgreSQL schema of its own.
    schema = target.schema and request.getfixturevalue("postgres").fresh_schema()
    database = await connect(target.url, schema=schema)
    await migrate(database)
    yield ProcedureStore(database)
    await database.aclose()


async def test_a_procedure_is_registered_and_read_back(store: ProcedureStore) -> None:
    assert await store.register(RSA) == RSA
    assert await store.get(101) == RSA
    other = replace(RSA, number=105, path="demande-rsa-93")
    await store.register(other)
    await store.register(replace(RSA, number=103, path="demande-css", form="css"))
    assert await store.for_form("rsa") == [RSA, other]
    assert [p.number for p in await store.all()] == [101, 103, 105]
    assert await store.for_form("aspa") == []


async def test_registering_again_replaces_the_row(store: ProcedureStore) -> None:
    await store.register(RSA)
    later = replace(RSA, path="rsa-2026", mapping={"form": "rsa"}, registered_at=NOW + timedelta(1))
    assert await store.register(later) == later
    assert await store.all() == [later]


async def test_removing_and_unknown_numbers(store: ProcedureStore) -> None:
    await store.register(RSA)
    await store.remove(101)
    with pytest.raises(ProcedureNotFound):
        await store.get(101)
    with pytest.raises(ProcedureNotFound):
        await store.remove(101)


@pytest.mark.parametrize(
    "bad",
    [
        replace(RSA, number=0),
        replace(RSA, path=""),
        replace(RSA, form=""),
        replace(RSA, registered_at=datetime(2026, 3, 1)),
        replace(RSA, registered_at=None),
    ],
)
async def test_invalid_records_are_refused(store: ProcedureStore, bad: ProcedureRecord) -> None:
    with pytest.raises(InvalidRecord):
        await store.register(bad)
    assert await store.all() == []
