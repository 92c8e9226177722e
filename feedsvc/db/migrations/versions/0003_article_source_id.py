"""``articles.source_id``: the source row id each article was read from (issue 18 §2).

The overlap window behind the ingest cursor is compared by row position (cursor instant + row
id) rather than by row count, so a delete and a late commit in the same poll interval can no
longer cancel out. Rows stored before this revision have no id (NULL); the comparison treats
them as "a row at this instant" until they leave the window, so no backfill is needed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("source_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE on SQLite too (3.35+): a batch copy would drop the FTS triggers of 0002
    op.execute("ALTER TABLE articles DROP COLUMN source_id")
