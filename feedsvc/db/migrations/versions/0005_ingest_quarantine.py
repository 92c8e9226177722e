"""``ingest_quarantine``: source rows ingest could not take (issue 12 §3).

A row the parser rejects, the state DB refuses or the CMS driver cannot even read is recorded
here (with its source row id, position and reason) and skipped, so the rows around it are
ingested and the cursor moves on. The position lets the overlap window count it as seen.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=True),
        sa.Column("source_cursor", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_quarantine")),
        sa.UniqueConstraint(
            "source", "source_id", name=op.f("uq_ingest_quarantine_source_source_id")
        ),
    )
    op.create_index(
        op.f("ix_ingest_quarantine_source_source_cursor"),
        "ingest_quarantine",
        ["source", "source_cursor"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_quarantine_source_source_cursor"), "ingest_quarantine")
    op.drop_table("ingest_quarantine")
