"""Bring the audit tables to the latest schema with Alembic, at every start.

Idempotent: on an up-to-date database Alembic finds nothing to run. On PostgreSQL, replicas
starting together take turns on an advisory lock (``migrations/env.py``).
"""

from __future__ import annotations

from pathlib import Path

from audit.database import AuditDatabase
from database import head_revision as _head_revision
from database import upgrade

_INI = Path(__file__).resolve().parent / "alembic.ini"


async def migrate(db: AuditDatabase) -> None:
    """Run ``alembic upgrade head`` on ``db``, in its schema, in one transaction."""
    async with db.transaction(write=True) as conn:
        await upgrade(conn, _INI, db.schema)


def head_revision() -> str:
    """The revision :func:`migrate` brings a database to (for health checks and tests)."""
    return _head_revision(_INI)
