"""Errors raised by the audit log.

SQLAlchemy and driver exceptions (asyncpg, sqlite3) are mapped at the database boundary, so
that callers only ever see this tree::

    AuditError              the database refused a statement for another reason
    ├── AuditUnavailable    the log cannot take the entry now: database unreachable, busy past
    │                       the timeout, failed commit, or the log is not running. The caller
    │                       must release nothing (fail-closed, DESIGN §2 step 5)
    ├── InvalidEntry        an entry that cannot be logged (naive time, unknown kind, text
    │                       that is not valid Unicode) or stored bytes that are not a
    │                       canonical entry; also a ValueError
    └── WitnessFailed       a witness (file or cosigning server) did not record a
                            checkpoint; the log logs it and tries again at the next one

Tampering is not an exception: :func:`audit.verify` returns a report naming the first bad
position, because finding it is the expected outcome of an audit, not a failure of the tool.
Messages never hold a URL, a password, a file path or an entry's values.
"""

from __future__ import annotations


class AuditError(Exception):
    pass


class AuditUnavailable(AuditError):
    pass


class InvalidEntry(AuditError, ValueError):
    pass


class WitnessFailed(AuditError):
    pass
