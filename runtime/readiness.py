"""Readiness of this deployment's database: reachable, and its migrations at this code's head.

Read by the gateway's ``/readyz``; here because the composition root alone knows which
packages keep tables in the database (the store and the audit log) and where their
migrations are.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import audit.migration
import store.migration
from database.migration import Revisions, current_revisions, revision_status
from runtime.services import Services

log = logging.getLogger(__name__)


# Seconds the readiness probe waits for the database: a load balancer probes every few seconds
# and must hear "not ready" before its own timeout.
READY_TIMEOUT = 2.0


def package_revisions() -> tuple[Revisions, ...]:
    """The migrations the database must be at: the store's and the audit log's."""
    return (
        Revisions.of(
            "store", Path(store.migration.__file__).with_name("alembic.ini"), "alembic_version"
        ),
        Revisions.of(
            "audit",
            Path(audit.migration.__file__).with_name("alembic.ini"),
            "audit_alembic_version",
        ),
    )


async def database_checks(services: Services, revisions: tuple[Revisions, ...]) -> dict[str, str]:
    """``database``: ``reachable`` or ``unreachable``; ``migrations``: ``at head``, ``behind:
    <package> <revision> < <head>``, ``newer: ...`` (a later release migrated the database,
    see :func:`database.migration.revision_status`) or ``unknown`` (the database did not
    answer). One connection, a few small reads."""
    database = services.database
    try:
        async with asyncio.timeout(READY_TIMEOUT), database.engine.connect() as conn:
            found = [
                await current_revisions(conn, package.version_table, database.schema)
                for package in revisions
            ]
    except Exception as exc:  # whatever the driver raises, the database is out
        log.warning("readiness: database unreachable", extra={"reason": type(exc).__name__})
        return {"database": "unreachable", "migrations": "unknown"}
    behind, newer = [], []
    for package, current in zip(revisions, found, strict=True):
        status = revision_status(package, current)
        revision = ",".join(current) or "none"
        if status == "behind":
            behind.append(f"{package.package} {revision} < {package.head}")
        elif status == "newer":
            newer.append(f"{package.package} {revision}")
    if behind:
        migrations = "behind: " + "; ".join(behind)
    elif newer:
        migrations = "newer: " + "; ".join(newer)
    else:
        migrations = "at head"
    return {"database": "reachable", "migrations": migrations}
