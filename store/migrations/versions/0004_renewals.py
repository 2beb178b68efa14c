"""Automatic renewals of the CSS: what was renewed, and whether it was reverted.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renewals",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("agency_renewal_id", sa.Text(), nullable=False),
        sa.Column("previous_end", sa.Date(), nullable=False),
        sa.Column("new_end", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("audit_id", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "person", "benefit", "previous_end", name="uq_renewals_person_benefit_end"
        ),
    )
    op.create_index("ix_renewals_campaign", "renewals", ["campaign"])


def downgrade() -> None:
    op.drop_index("ix_renewals_campaign", table_name="renewals")
    op.drop_table("renewals")
