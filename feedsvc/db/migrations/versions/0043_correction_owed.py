"""``articles.correction_owed_at``: a correction stored while its article was not public.

A tester's report: an alerted article corrected with its ``published_at`` 10 s ahead of now
(a CMS clock a little ahead re-dating the edit) — too little to retract its alert — came back
in the feeds with the new title, while the chat kept the old one for good: the correction was
decided only while the article was public, so one stored while it was scheduled, hidden or
withdrawn owed nothing. Such a correction is now recorded here, on the article, in the
transaction that stores it, and the follow-up worker's sweep owes the edits once the article
is public again (``store.owed_corrections``), by state, whichever way it came back.

Existing rows get NULL (nothing owed): a correction stored before the upgrade while its article
was not public is not known. The index serves the sweep's lookup of the few rows set.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): the SQLite FTS triggers on ``articles`` stay as they are
    op.add_column(
        "articles", sa.Column("correction_owed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_articles_correction_owed_at", "articles", ["correction_owed_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_correction_owed_at", table_name="articles")
    op.execute("ALTER TABLE articles DROP COLUMN correction_owed_at")
