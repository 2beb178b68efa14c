"""The audit-sector pseudonym of a renewal's person, so that undoing it is recorded in the
same person's access journal as the renewal was.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    # ALTER TABLE is not placed by the schema map the environment sets for CREATE TABLE:
    # name the schema the version table is in (None on SQLite).
    schema: str | None = op.get_context().version_table_schema
    return schema


def upgrade() -> None:
    op.add_column("renewals", sa.Column("audit_person", sa.Text(), nullable=True), schema=_schema())


def downgrade() -> None:
    with op.batch_alter_table("renewals", schema=_schema()) as batch:
        batch.drop_column("audit_person")
