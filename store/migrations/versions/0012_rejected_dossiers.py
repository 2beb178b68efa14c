"""Dossiers whose deposit the gateway refused (a value it cannot take: a social security
number without its key, a negative amount): ``rejected``, with the reason in ``outcome``,
processed again once the person changes the dossier — not ``failed`` and retried for ever.
And ``sent``: the form fields a dossier was created with a value for, against which its
deposit is read (what the person saw prefilled, not what the agencies say at deposit time).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_NAME = "ck_ds_dossiers_status"
_BEFORE = "status IN ('created', 'submitted', 'processed', 'failed')"
_AFTER = "status IN ('created', 'submitted', 'processed', 'failed', 'rejected')"


def _schema() -> str | None:
    # ALTER TABLE is not placed by the schema map the environment sets for CREATE TABLE:
    # name the schema the version table is in (None on SQLite).
    schema: str | None = op.get_context().version_table_schema
    return schema


def _table() -> sa.Table:
    """The table as 0008 made it, without its status check: what SQLite copies into the
    table it rebuilds (it cannot alter a constraint in place)."""
    return sa.Table(
        "ds_dossiers",
        sa.MetaData(),
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
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Index("ix_ds_dossiers_status_updated", "status", "updated_at"),
        sa.Index("ix_ds_dossiers_expires_at", "expires_at"),
        sa.Index("ix_ds_dossiers_person", "person"),
    )


def _check(condition: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("ds_dossiers", copy_from=_table(), recreate="always") as batch:
            batch.create_check_constraint(_NAME, sa.text(condition))
        return
    op.drop_constraint(_NAME, "ds_dossiers", type_="check", schema=_schema())
    op.create_check_constraint(_NAME, "ds_dossiers", sa.text(condition), schema=_schema())


def upgrade() -> None:
    _check(_AFTER)
    op.add_column("ds_dossiers", sa.Column("sent", sa.Text(), nullable=True), schema=_schema())


def downgrade() -> None:
    # A Table, not SQL text: the statement is then placed in the store's PostgreSQL schema.
    dossiers = sa.Table(
        "ds_dossiers", sa.MetaData(), sa.Column("status", sa.Text()), schema=_schema()
    )
    op.execute(sa.update(dossiers).where(dossiers.c.status == "rejected").values(status="failed"))
    with op.batch_alter_table("ds_dossiers", schema=_schema()) as batch:
        batch.drop_column("sent")
    _check(_BEFORE)
