"""Audit log: entries with their leaf and chain head, the chain's head row, checkpoints.

Revision ID: a0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # No schema argument: the connection's schema_translate_map places the tables (env.py).
    op.create_table(
        "audit_entries",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("id", sa.Text(), nullable=False, unique=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("object", sa.Text(), nullable=True),
        sa.Column("person", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("denials", sa.Integer(), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_audit_entries_time", "audit_entries", ["time"])
    op.create_index("ix_audit_entries_client", "audit_entries", ["client", "seq"])
    op.create_index("ix_audit_entries_person", "audit_entries", ["person", "seq"])
    op.create_index("ix_audit_entries_purpose", "audit_entries", ["purpose", "seq"])
    op.create_index("ix_audit_entries_object", "audit_entries", ["object", "client"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", _SEQ, nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_one_row"),
    )
    # The empty chain: size 0, head = 32 zero bytes (audit.chain.GENESIS, frozen here).
    op.bulk_insert(head, [{"id": 1, "size": 0, "head": bytes(32)}])
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("head", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    for name in ("object", "purpose", "person", "client", "time"):
        op.drop_index(f"ix_audit_entries_{name}", table_name="audit_entries")
    op.drop_table("audit_entries")
