"""Alembic environment of the store (its tables, ``alembic_version``, its advisory lock).

The body is :func:`database.run_environment`, shared with the audit log's.
"""

from __future__ import annotations

from database import run_environment
from store.tables import metadata

# Any constant shared by every replica: they serialise on it so that concurrent starts do not
# race to create the schema and the version table.
_MIGRATION_LOCK = 0x756E65666F6973  # "unefois"

run_environment(
    metadata=metadata, version_table="alembic_version", lock=_MIGRATION_LOCK, owner="the store"
)
