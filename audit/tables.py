"""The audit tables, defined once with SQLAlchemy Core.

The metadata carries no schema: on PostgreSQL the engine's ``schema_translate_map`` places the
tables at run time. Migrations under ``migrations/versions`` are frozen snapshots and do not
import this module; a change here goes with a new revision.

``audit_entries.canonical`` is the source of truth (it is what the leaf hashes); the other
columns are copies kept for the auditors' filters, and ``verify`` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    TypeDecorator,
)

# SQLite makes an INTEGER PRIMARY KEY the rowid itself: entries are stored in seq order with
# no second index. PostgreSQL needs 64 bits for a log that outlives 2^31 entries.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both backends.

    SQLite has no time zone type: it stores the UTC wall time (which sorts and compares as
    text) and hands back a naive value, which we mark as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware time")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("id", Text, nullable=False, unique=True),
    Column("time", UTCDateTime, nullable=False),
    Column("kind", Text, nullable=False),
    Column("client", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("object", Text, nullable=True),
    Column("recipient", Text, nullable=True),  # the SIRET of the body using the data
    Column("person", Text, nullable=True),  # the audit-sector pseudonym, never a name
    Column("outcome", Text, nullable=False),
    Column("denials", Integer, nullable=False),
    Column("canonical", LargeBinary, nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("head", LargeBinary, nullable=False),
    # The id of the entry this one corrects (its ``corrects`` detail), or NULL: readers leave
    # out an entry some other entry corrects (``audit.folding``).
    Column("corrects", Text, nullable=True),
    # (x, seq): the auditors' and citizens' pages filter on x and walk seq newest first.
    Index("ix_audit_entries_time", "time"),
    Index("ix_audit_entries_client", "client", "seq"),
    Index("ix_audit_entries_person", "person", "seq"),
    Index("ix_audit_entries_purpose", "purpose", "seq"),
    Index("ix_audit_entries_object", "object", "client"),
    Index("ix_audit_entries_kind", "kind", "seq"),
    Index("ix_audit_entries_recipient", "recipient", "seq"),
    Index("ix_audit_entries_object_seq", "object", "seq"),
    Index("ix_audit_entries_corrects", "corrects"),
)

# One row (id = 1): the chain's size and head. Writers lock it (FOR UPDATE) to append, which
# is what makes replicas on one PostgreSQL produce one chain.
head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Seq, nullable=False),
    Column("head", LargeBinary, nullable=False),
)

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", Seq, primary_key=True, autoincrement=False),
    Column("origin", Text, nullable=False),
    Column("head", LargeBinary, nullable=False),
    Column("signed_at", UTCDateTime, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("signature", LargeBinary, nullable=False),
)

# Campaigns the operator declared when they started: the anomaly rules report a campaign's
# bulk reads (one client, purpose and object, within its period) as declared, not as trawling.
campaigns = Table(
    "audit_campaigns",
    metadata,
    Column("object", Text, primary_key=True),  # the campaign id the accesses carry as object
    Column("client", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("population", Integer, nullable=True),  # expected persons; None: not known
    Column("declared_at", UTCDateTime, nullable=False),
    Column("source", Text, nullable=True),  # where its persons come from; None: not said
)

# The results of full verifications (``unefois audit verify``), newest last, for the console.
verifications = Table(
    "audit_verifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("size", Seq, nullable=False),
    Column("position", Seq, nullable=True),
    Column("problem", Text, nullable=True),
    Column("witnessed", Seq, nullable=True),
)
