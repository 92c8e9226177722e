"""``ingest_not_applied``: source rows ingest read and decided not to apply.

A CMS key column need not be unique. Of the rows carrying one key, ingest stores one (the
newest version's) and does not apply the others, but nothing recorded where those others
were: the overlap window behind the cursor found a row it held no copy of and re-read it as a
late commit at every poll (the log line and the read each time, for as long as the cursor
stayed within ``source.overlap_seconds`` of the row: for ever on a quiet CMS), and each
restart warned of it again. Each such row's position, key and version are now recorded here;
the window counts the position as seen, and the warning is said when a row's key or version
is new to the table.

No rows at first: what older releases decided was not kept. A row of that kind within the
window is re-read once after the upgrade, then recorded.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_not_applied",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("source_cursor", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "source_id", name="pk_ingest_not_applied"),
    )
    op.create_index(
        "ix_ingest_not_applied_source_source_cursor",
        "ingest_not_applied",
        ["source", "source_cursor"],
    )


def downgrade() -> None:
    op.drop_index("ix_ingest_not_applied_source_source_cursor", table_name="ingest_not_applied")
    op.drop_table("ingest_not_applied")
