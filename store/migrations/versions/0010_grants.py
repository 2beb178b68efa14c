"""Automatic grants (the free CSS of new RSA recipients) and why an offer became obsolete.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    # ALTER TABLE is not placed by the schema map the environment sets for CREATE TABLE:
    # name the schema the version table is in (None on SQLite).
    schema: str | None = op.get_context().version_table_schema
    return schema


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("cause_on", sa.Date(), nullable=False),
        sa.Column("agency_grant_id", sa.Text(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.Column("audit_person", sa.Text(), nullable=True),
        sa.UniqueConstraint("person", "benefit", "cause_on", name="uq_grants_person_benefit_cause"),
    )
    op.create_index("ix_grants_campaign", "grants", ["campaign"])
    op.add_column(
        "offers", sa.Column("obsolete_reason", sa.Text(), nullable=True), schema=_schema()
    )


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=_schema()) as batch:
        batch.drop_column("obsolete_reason")
    op.drop_index("ix_grants_campaign", table_name="grants")
    op.drop_table("grants")
