"""Audit log: a recipient column for the auditors' filter (filled from the canonical bytes of
the entries already written), indexes for the kind, object and recipient filters, declared
campaigns and recorded verifications.

Revision ID: a0002
Revises: a0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None

_CHUNK = 5000


def _schema() -> str | None:
    # ALTER TABLE … ADD/DROP COLUMN is rendered without the schema_translate_map that places
    # the other statements (env.py): the schema is named here.
    mapping = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema = mapping.get(None)
    return str(schema) if schema is not None else None


def upgrade() -> None:
    op.add_column(
        "audit_entries", sa.Column("recipient", sa.Text(), nullable=True), schema=_schema()
    )
    _fill_recipients()
    op.create_index("ix_audit_entries_kind", "audit_entries", ["kind", "seq"])
    op.create_index("ix_audit_entries_recipient", "audit_entries", ["recipient", "seq"])
    op.create_index("ix_audit_entries_object_seq", "audit_entries", ["object", "seq"])
    op.create_table(
        "audit_campaigns",
        sa.Column("object", sa.Text(), primary_key=True),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("witnessed", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
    )


def _fill_recipients() -> None:
    # The canonical JSON is the source of truth; the column is a copy that verify compares
    # with it. Read in seq order by chunks so that a large log does not sit in memory.
    conn = op.get_bind()
    # A Table (not a lightweight table clause): the connection's schema_translate_map
    # places it on PostgreSQL.
    entries = sa.Table(
        "audit_entries",
        sa.MetaData(),
        sa.Column("seq", sa.Integer()),
        sa.Column("canonical", sa.LargeBinary()),
        sa.Column("recipient", sa.Text()),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(entries.c.seq, entries.c.canonical)
            .where(entries.c.seq > last)
            .order_by(entries.c.seq)
            .limit(_CHUNK)
        ).all()
        updates = []
        for seq, canonical in rows:
            recipient = json.loads(bytes(canonical)).get("recipient")
            if recipient is not None:
                updates.append({"s": int(seq), "r": recipient})
        if updates:
            conn.execute(
                sa.update(entries)
                .where(entries.c.seq == sa.bindparam("s"))
                .values(recipient=sa.bindparam("r")),
                updates,
            )
        if len(rows) < _CHUNK:
            return
        last = int(rows[-1][0])


def downgrade() -> None:
    op.drop_table("audit_verifications")
    op.drop_table("audit_campaigns")
    for name in ("object_seq", "recipient", "kind"):
        op.drop_index(f"ix_audit_entries_{name}", table_name="audit_entries")
    op.drop_column("audit_entries", "recipient", schema=_schema())
