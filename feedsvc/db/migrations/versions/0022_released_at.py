"""``articles.released_at``: when the due check released a scheduled article whose time came.

The due check looks back 10 minutes past the previous run (a scheduled article whose row
commits just after a check passed its time is still released) and remembered what it had
released only in memory: every restart — and every replica taking the ingest lease over —
released again, logged and alerted the articles that became public in the 10 minutes before
it, so chats that subscribed meanwhile got them as new alerts. The release is now recorded
on the article, in the check's transaction: one at or after its ``published_at`` is not
released again by any process; a later ``published_at`` (moved into the future after it was
public) is released at that time, as before.

Rows at the upgrade: a scheduled article whose time lies at or before the stored
``due_watermark`` was released (or skipped: hidden, withdrawn) by a check that had passed
it; it counts as released at its time. No watermark (never checked): nothing is marked, the
first check looks back as before.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): the SQLite FTS triggers on ``articles`` stay as they are
    op.add_column("articles", sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE articles SET released_at = published_at"
        " WHERE first_seen_at < published_at"
        " AND published_at <= (SELECT checked_through FROM due_watermark WHERE name = 'due')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE articles DROP COLUMN released_at")
