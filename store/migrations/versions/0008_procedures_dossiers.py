"""démarches-simplifiées: the procedures registered for each form, and the dossiers created.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ds_procedures",
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("champs", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ds_procedures_form", "ds_procedures", ["form"])
    op.create_table(
        "ds_dossiers",
        sa.Column("number", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("procedure", sa.Integer(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=True),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("access_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        # What processing the submitted dossier gave (the submission, the re-evaluation).
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('created', 'submitted', 'processed', 'failed')",
            name="ck_ds_dossiers_status",
        ),
    )
    op.create_index("ix_ds_dossiers_status_updated", "ds_dossiers", ["status", "updated_at"])
    op.create_index("ix_ds_dossiers_expires_at", "ds_dossiers", ["expires_at"])
    op.create_index("ix_ds_dossiers_person", "ds_dossiers", ["person"])


def downgrade() -> None:
    op.drop_index("ix_ds_dossiers_person", table_name="ds_dossiers")
    op.drop_index("ix_ds_dossiers_expires_at", table_name="ds_dossiers")
    op.drop_index("ix_ds_dossiers_status_updated", table_name="ds_dossiers")
    op.drop_table("ds_dossiers")
    op.drop_index("ix_ds_procedures_form", table_name="ds_procedures")
    op.drop_table("ds_procedures")
