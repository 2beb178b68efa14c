"""Audit log: the entry an entry corrects, for the readers to show the correction in its place.

An access's entry is written while the agencies are called, saying what the access releases
if they all answer; when they do not, a second entry says what it did release and names the
first in its ``corrects`` detail, copied here so that readers can leave the first out.

Revision ID: a0004
Revises: a0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0004"
down_revision = "a0003"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    # ALTER TABLE … ADD/DROP COLUMN is rendered without the schema_translate_map that places
    # the other statements (env.py): the schema is named here.
    mapping = op.get_bind().get_execution_options().get("schema_translate_map") or {}
    schema = mapping.get(None)
    return str(schema) if schema is not None else None


def upgrade() -> None:
    op.add_column(
        "audit_entries", sa.Column("corrects", sa.Text(), nullable=True), schema=_schema()
    )
    op.create_index("ix_audit_entries_corrects", "audit_entries", ["corrects"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_corrects", table_name="audit_entries")
    op.drop_column("audit_entries", "corrects", schema=_schema())
