"""``source_cursors.first_sync``: a source's first sync is under way (issue 17 §2).

A first sync (no cursor yet, a backlog behind it) stores the archive without alerting. It
can take hours and be stopped (SIGTERM, a crash) half-way: the flag, committed with each
batch's cursor, says the restart is still in it, until a batch finds nothing more behind.

Existing cursors get ``false``: their first sync is done.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "source_cursors",
        sa.Column("first_sync", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("source_cursors") as batch:
        batch.drop_column("first_sync")
