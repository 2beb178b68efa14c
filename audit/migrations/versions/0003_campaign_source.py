"""Audit log: where a declared campaign's persons come from (the sandbox's listing, the
agencies' event feeds…), for the campaign report.

Revision ID: a0003
Revises: a0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a0003"
down_revision = "a0002"
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
        "audit_campaigns", sa.Column("source", sa.Text(), nullable=True), schema=_schema()
    )


def downgrade() -> None:
    op.drop_column("audit_campaigns", "source", schema=_schema())
