"""The database plumbing the store and the audit log share: one leaf, importing nothing of ours.

URLs (SQLite embedded, PostgreSQL past one machine, both on their async drivers), the engine
with its SQLite settings and PostgreSQL schema, the classification of driver errors that each
package maps to its own error tree, and the Alembic runner. Each package keeps its own tables,
revisions and version table; one database (one engine) may hold them all.

Wiring::

    shared = open_engine(url_for(data_dir, env_url), schema=None)
    ...                                   # store.Database(shared), audit.AuditDatabase(shared)
    await shared.aclose()
"""

from database.engine import WRITE_LOCK, Backend, Engine, configure_sqlite, open_engine
from database.failures import Failure, classify
from database.migration import head_revision, run_environment, upgrade
from database.url import DEFAULT_FILE, backend_of, normalise_url, url_for

__all__ = [
    "DEFAULT_FILE",
    "WRITE_LOCK",
    "Backend",
    "Engine",
    "Failure",
    "backend_of",
    "classify",
    "configure_sqlite",
    "head_revision",
    "normalise_url",
    "open_engine",
    "run_environment",
    "upgrade",
    "url_for",
]
