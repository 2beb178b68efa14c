"""Database and migrations on both backends: URLs, pragmas, idempotent upgrades, the check
constraint, and errors that name no URL and no password."""

from __future__ import annotations

import threading
import traceback
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, inspect, select, text

from store import (
    Database,
    InvalidRecord,
    StoreError,
    StoreUnavailable,
    connect,
    database_url_for,
    head_revision,
    migrate,
)
from store.tables import consents
from tests.store.conftest import POSTGRES_URL, Postgres, Target

alembic_version = Table("alembic_version", MetaData(), Column("version_num", String(32)))


def test_database_url_for() -> None:
    assert database_url_for(Path("var"), None) == "sqlite+aiosqlite:///var/unefois.db"
    assert database_url_for(Path("/srv/data"), "") == "sqlite+aiosqlite:////srv/data/unefois.db"
    assert database_url_for(Path("var"), " postgresql://db/unefois ") == "postgresql://db/unefois"


async def test_migrate_twice_is_idempotent(target: Target, request: pytest.FixtureRequest) -> None:
    schema = target.schema
    if schema is not None:
        # A schema no one created yet: migrate must create it.
        schema = request.getfixturevalue("postgres").fresh_schema()
    database = await connect(target.url, schema=schema)
    try:
        await migrate(database)
        await migrate(database)
        async with database.connection() as conn:
            versions = (await conn.execute(select(alembic_version.c.version_num))).scalars().all()
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names(schema=schema))
            indexes = await conn.run_sync(
                lambda c: inspect(c).get_indexes("consents", schema=schema)
            )
    finally:
        await database.aclose()
    assert versions == [head_revision()]
    assert {"consents", "alembic_version"} <= set(tables)
    assert [ix["column_names"] for ix in indexes if ix["name"] == "ix_consents_person"] == [
        ["person"]
    ]


async def test_postgres_urls_are_rewritten_to_asyncpg(postgres: Postgres) -> None:
    database = await connect(POSTGRES_URL.replace("postgresql://", "postgres://"))
    try:
        assert database.engine.url.drivername == "postgresql+asyncpg"
        await database.ping()
    finally:
        await database.aclose()


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    database = await connect(f"sqlite:///{(tmp_path / 'new' / 'u.db').as_posix()}")
    try:
        async with database.connection() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            sync = (await conn.execute(text("PRAGMA synchronous"))).scalar()
    finally:
        await database.aclose()
    # FULL (2): the store shares its engine with the audit log, whose entries must survive a
    # machine crash.
    assert (journal, keys, sync) == ("truncate", 1, 2)  # not WAL: see docs/audit.md


@pytest.mark.parametrize(
    ("client_id", "purpose"),
    [("caf-paris", "rsa-instruction"), (None, None)],
    ids=["both", "neither"],
)
async def test_the_database_refuses_a_bad_grantee(
    database: Database, person: str, client_id: str | None, purpose: str | None
) -> None:
    # Straight to the table, past ConsentStore's own check: the constraint must hold alone.
    row = {
        "id": f"bad-{person}",
        "person": person,
        "client_id": client_id,
        "purpose": purpose,
        "categories": frozenset({"income"}),
        "granted_at": datetime(2025, 3, 14, tzinfo=UTC),
        "valid_from": date(2025, 4, 1),
        "valid_until": date(2025, 9, 30),
    }
    with pytest.raises(InvalidRecord):
        async with database.transaction() as conn:
            await conn.execute(consents.insert().values(**row))
    async with database.connection() as conn:
        found = (await conn.execute(select(consents).where(consents.c.person == person))).all()
    assert found == []


def _everything_said(error: BaseException) -> str:
    # The message, and no chained driver exception for a traceback to print.
    assert error.__cause__ is None
    assert error.__suppress_context__
    return str(error) + repr(error) + "".join(traceback.format_exception_only(error))


async def test_unavailable_server_names_no_password() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        await connect("postgresql://postgres:hunter2-secret@127.0.0.1:1/postgres")
    said = _everything_said(caught.value)
    assert "hunter2-secret" not in said
    assert "postgresql://" not in said
    assert "postgresql" in str(caught.value)


async def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    # A directory where the file should be: SQLite cannot open it.
    (tmp_path / "unefois.db").mkdir()
    before = set(threading.enumerate())
    with pytest.raises(StoreUnavailable) as caught:
        await connect(database_url_for(tmp_path, None))
    assert str(tmp_path) not in _everything_said(caught.value)
    _join_sqlite_workers(set(threading.enumerate()) - before)


def _join_sqlite_workers(started: set[threading.Thread]) -> None:
    # After a failed connect, aiosqlite queues its worker thread's stop without awaiting it;
    # the thread then answers on this test's event loop, closed by the time it does when the
    # test ends first (omnilib/aiosqlite issue 241), and pytest reports the thread's
    # RuntimeError. Joined while the loop still runs, the thread answers a live loop.
    for thread in started:
        if thread.name.endswith("(_connection_worker_thread)"):
            thread.join(timeout=10)
            assert not thread.is_alive()


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("mysql://root:pw@db/unefois", None),
        ("not a url", None),
        ("sqlite:///u.db", "tenant"),
        (POSTGRES_URL, "Robert'); DROP TABLE"),
    ],
    ids=["other-backend", "garbage", "schema-on-sqlite", "bad-schema-name"],
)
async def test_unusable_configuration(url: str, schema: str | None) -> None:
    with pytest.raises(ValueError) as caught:
        await connect(url, schema=schema)
    assert "pw@" not in str(caught.value)
    assert not isinstance(caught.value, StoreError)
