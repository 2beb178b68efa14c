"""Alembic, run by each package over its own revisions, version table and lock.

:func:`upgrade` runs at every start, idempotent, in one transaction; :func:`run_environment`
is the body of each package's ``migrations/env.py``: on PostgreSQL, replicas starting together
take turns on the package's advisory lock to create the schema and the version table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.schema import CreateSchema

from database.url import normalise_url


def _config(ini: Path) -> Config:
    # script_location is relative to the ini file's directory: found wherever we are installed.
    return Config(str(ini))


def _upgrade(connection: Connection, ini: Path, schema: str | None) -> None:
    config = _config(ini)
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


async def upgrade(conn: AsyncConnection, ini: Path, schema: str | None) -> None:
    """``alembic upgrade head`` with the configuration ``ini``, on an open transaction."""
    await conn.run_sync(_upgrade, ini, schema)


def head_revision(ini: Path) -> str:
    """The revision :func:`upgrade` brings a database to (health checks and tests)."""
    head = ScriptDirectory.from_config(_config(ini)).get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True)
class Revisions:
    """One package's migrations as health checks see them: its Alembic configuration and
    version table, and the head its code expects (read once, from the revision files)."""

    package: str
    ini: Path
    version_table: str
    head: str

    @classmethod
    def of(cls, package: str, ini: Path, version_table: str) -> Revisions:
        return cls(package, ini, version_table, head_revision(ini))


def _current(connection: Connection, version_table: str, schema: str | None) -> tuple[str, ...]:
    migration = MigrationContext.configure(
        connection, opts={"version_table": version_table, "version_table_schema": schema}
    )
    return tuple(migration.get_current_heads())


async def current_revisions(
    conn: AsyncConnection, version_table: str, schema: str | None
) -> tuple[str, ...]:
    """The revisions ``version_table`` records (empty: never migrated)."""
    return await conn.run_sync(_current, version_table, schema)


def revision_status(revisions: Revisions, current: tuple[str, ...]) -> str:
    """``head``; ``behind`` (never migrated, or at an older revision of this code); or
    ``newer``: a revision this code does not know, which a later release wrote when it
    migrated the database first (its migrations keep older code working while replicas roll
    over, so this is no reason to stop serving)."""
    if current == (revisions.head,):
        return "head"
    script = ScriptDirectory.from_config(_config(revisions.ini))
    for revision in current:
        try:
            script.get_revision(revision)
        except CommandError:
            return "newer"
    return "behind"


def _run(
    connection: Connection,
    schema: str | None,
    metadata: MetaData,
    version_table: str,
    lock: int,
) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(lock)))
        if schema is not None:
            connection.execute(CreateSchema(schema, if_not_exists=True))
    if schema is not None:
        # Revisions name no schema: this map places their tables, as it does at run time.
        connection = connection.execution_options(schema_translate_map={None: schema})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        version_table_schema=schema,
        # SQLite cannot alter most constraints in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(
    url: str, schema: str | None, metadata: MetaData, version_table: str, lock: int
) -> None:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, schema, metadata, version_table, lock)
    finally:
        await engine.dispose()


def run_environment(*, metadata: MetaData, version_table: str, lock: int, owner: str) -> None:
    """Two ways in: :func:`upgrade` hands over an open connection (``config.attributes``), and
    the alembic command line, which gets an engine from ``sqlalchemy.url`` (or ``-x url=``)
    and an optional ``-x schema=``."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, config.attributes.get("schema"), metadata, version_table, lock)
        return
    if context.is_offline_mode():
        raise SystemExit(f"{owner}'s migrations run online only")
    arguments = context.get_x_argument(as_dictionary=True)
    url = arguments.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: set sqlalchemy.url or pass -x url=...")
    asyncio.run(_run_from_url(url, arguments.get("schema"), metadata, version_table, lock))
