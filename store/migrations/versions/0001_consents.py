"""Consents: a person's consent to one client or for one purpose, on field categories.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No schema argument: the connection's schema_translate_map places the table (env.py).
    op.create_table(
        "consents",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(client_id IS NULL) <> (purpose IS NULL)",
            name="ck_consents_one_grantee",
        ),
    )
    op.create_index("ix_consents_person", "consents", ["person"])


def downgrade() -> None:
    op.drop_index("ix_consents_person", table_name="consents")
    op.drop_table("consents")
