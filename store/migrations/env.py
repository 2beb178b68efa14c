"""Alembic environment of the store, for async engines and a PostgreSQL schema.

Two ways in: :func:`store.migrate` hands over an open connection (``config.attributes``), and
the alembic command line, which gets an async engine from ``sqlalchemy.url`` (or ``-x url=``)
and an optional ``-x schema=``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import CreateSchema

from store.tables import metadata

# Any constant shared by every replica: they serialise on it so that concurrent starts do not
# race to create the schema and the version table.
_MIGRATION_LOCK = 0x756E65666F6973  # "unefois"


def _run(connection: Connection, schema: str | None) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        if schema is not None:
            connection.execute(CreateSchema(schema, if_not_exists=True))
    if schema is not None:
        # Revisions name no schema: this map places their tables, as it does at run time.
        connection = connection.execution_options(schema_translate_map={None: schema})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        # SQLite cannot alter most constraints in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str, schema: str | None) -> None:
    from store.database import _normalise  # the same URL rewriting as the gateway's

    engine = create_async_engine(_normalise(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, schema)
    finally:
        await engine.dispose()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, config.attributes.get("schema"))
        return
    if context.is_offline_mode():
        raise SystemExit("the store's migrations run online only")
    arguments = context.get_x_argument(as_dictionary=True)
    url = arguments.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: set sqlalchemy.url or pass -x url=...")
    asyncio.run(_run_from_url(url, arguments.get("schema")))


_main()
