"""Alembic environment of the audit log, for async engines and a PostgreSQL schema.

Two ways in: :func:`audit.migrate` hands over an open connection (``config.attributes``), and
the alembic command line, which gets an async engine from ``sqlalchemy.url`` (or ``-x url=``)
and an optional ``-x schema=``. The version table is ``audit_alembic_version``: the store's
``alembic_version`` may live in the same database.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.schema import CreateSchema

from audit.tables import metadata

VERSION_TABLE = "audit_alembic_version"
# A constant shared by every replica, distinct from the store's: replicas starting together
# take turns to create the schema and the version table.
_MIGRATION_LOCK = 0x61756469746C6F67  # "auditlog"


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
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str, schema: str | None) -> None:
    from audit.database import normalise_url  # the same URL rewriting as the gateway's

    engine = create_async_engine(normalise_url(url))
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
        raise SystemExit("the audit log's migrations run online only")
    arguments = context.get_x_argument(as_dictionary=True)
    url = arguments.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: set sqlalchemy.url or pass -x url=...")
    asyncio.run(_run_from_url(url, arguments.get("schema")))


_main()
