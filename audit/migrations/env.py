"""Alembic environment of the audit log (its tables, ``audit_alembic_version`` so that the
store's ``alembic_version`` may live in the same database, its own advisory lock).

The body is :func:`database.run_environment`, shared with the store's.
"""

from __future__ import annotations

from audit.tables import metadata
from database import run_environment

VERSION_TABLE = "audit_alembic_version"
# A constant shared by every replica, distinct from the store's: replicas starting together
# take turns to create the schema and the version table.
_MIGRATION_LOCK = 0x61756469746C6F67  # "auditlog"

run_environment(
    metadata=metadata, version_table=VERSION_TABLE, lock=_MIGRATION_LOCK, owner="the audit log"
)
