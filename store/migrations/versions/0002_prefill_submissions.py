"""Prefill submissions: what a person confirmed, corrected and provided on a prefilled form.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prefill_submissions",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("access_id", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Text(), nullable=False),
        sa.Column("corrections", sa.Text(), nullable=False),
        sa.Column("provided", sa.Text(), nullable=False),
    )
    op.create_index("ix_prefill_submissions_person", "prefill_submissions", ["person"])


def downgrade() -> None:
    op.drop_index("ix_prefill_submissions_person", table_name="prefill_submissions")
    op.drop_table("prefill_submissions")
