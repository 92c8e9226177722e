"""``source_cursors.backlog`` and ``.rate``: a first sync's progress for status (issue 17 §2).

Ingest records, with each batch's cursor, how many source rows are still behind it and the
rate it moves at, so ``feedsvc status`` and the admin status page (other processes than the
one ingesting) can show the backlog and an ETA. NULL: no catch-up measured yet.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_cursors", sa.Column("backlog", sa.BigInteger(), nullable=True))
    op.add_column("source_cursors", sa.Column("rate", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE source_cursors DROP COLUMN rate")
    op.execute("ALTER TABLE source_cursors DROP COLUMN backlog")
