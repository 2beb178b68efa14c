"""The audit database on both backends: migrations, pragmas, URLs, errors without secrets."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, inspect, select, text

from audit import AuditError, AuditUnavailable, head_revision, migrate, open_database
from audit import tables as t
from tests.audit.conftest import POSTGRES_URL, Postgres, Target

version_table = Table("audit_alembic_version", MetaData(), Column("version_num", String(32)))


async def test_migrate_twice_is_idempotent_with_its_own_version_table(target: Target) -> None:
    database = await open_database(target.url, schema=target.schema)
    try:
        await migrate(database)
        await migrate(database)
        async with database.connection() as conn:
            versions = (await conn.execute(select(version_table.c.version_num))).scalars().all()
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names(schema=target.schema))
            head_rows = (await conn.execute(select(t.head.c.size))).all()
    finally:
        await database.aclose()
    assert versions == [head_revision()]
    assert {"audit_entries", "audit_head", "audit_checkpoints", "audit_alembic_version"} <= set(
        tables
    )
    # The store's alembic_version is left alone: both can live in one database.
    assert "alembic_version" not in tables
    assert [tuple(row) for row in head_rows] == [(0,)]


async def test_sqlite_maps_no_file_and_syncs_every_commit(tmp_path: object) -> None:
    database = await open_database(f"sqlite:///{tmp_path}/a.db")
    try:
        async with database.connection() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            mapped = (await conn.execute(text("PRAGMA mmap_size"))).scalar()
    finally:
        await database.aclose()
    # No WAL index (-shm) and no mapped database: nothing a SIGBUS can come from.
    assert (journal, mapped) == ("truncate", 0)
    assert synchronous == 2  # FULL


def test_bad_urls_and_schemas_are_refused() -> None:
    import asyncio

    async def attempt(url: str, schema: str | None = None) -> None:
        await open_database(url, schema=schema)

    for url, schema in [
        ("mysql://u:secret@h/db", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///x.db", "audit"),
        ("::not a url::", None),
        ("postgresql://postgres@127.0.0.1/postgres", "Bad-Name"),
    ]:
        with pytest.raises(ValueError) as caught:
            asyncio.run(attempt(url, schema))
        assert "secret" not in str(caught.value)


async def test_unreachable_server_names_no_url_nor_password() -> None:
    with pytest.raises(AuditUnavailable) as caught:
        await open_database("postgresql://auditor:hunter2@127.0.0.1:1/audit")
    # Neither the message nor a chained exception that a traceback would print.
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    shown = "".join(traceback.format_exception_only(caught.value))
    assert "hunter2" not in shown
    assert "127.0.0.1" not in str(caught.value)


async def test_postgres_urls_are_rewritten_to_asyncpg(postgres: Postgres) -> None:
    database = await open_database(POSTGRES_URL.replace("postgresql://", "postgres://"))
    try:
        assert database.backend == "postgresql"
        assert database.engine.url.drivername == "postgresql+asyncpg"
    finally:
        await database.aclose()


async def test_a_read_only_database_refuses_every_write(target: Target) -> None:
    writable = await open_database(target.url, schema=target.schema)
    await migrate(writable)
    await writable.aclose()
    database = await open_database(target.url, schema=target.schema, read_only=True)
    try:
        async with database.snapshot() as conn:
            assert (await conn.execute(select(t.head.c.size))).scalar_one() == 0
        with pytest.raises(AuditError):
            async with database.transaction(write=True) as conn:
                await conn.execute(t.head.update().values(size=5))
        with pytest.raises(AuditError):
            await migrate(database)
    finally:
        await database.aclose()


async def test_a_missing_sqlite_file_is_not_created_read_only(tmp_path: object) -> None:
    with pytest.raises(AuditUnavailable):
        await open_database(f"sqlite:///{tmp_path}/absent/a.db", read_only=True)
    assert not (Path(str(tmp_path)) / "absent").exists()
