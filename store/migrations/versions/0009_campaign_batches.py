"""Campaign batches: a campaign's plan, one row per batch of persons, run by any worker.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_batches",
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("campaign", "number", name="pk_campaign_batches"),
        sa.CheckConstraint("kind IN ('detection', 'renewal')", name="ck_campaign_batches_kind"),
        sa.CheckConstraint("state IN ('pending', 'done')", name="ck_campaign_batches_state"),
    )
    op.create_index("ix_campaign_batches_state", "campaign_batches", ["campaign", "state"])


def downgrade() -> None:
    op.drop_index("ix_campaign_batches_state", table_name="campaign_batches")
    op.drop_table("campaign_batches")
