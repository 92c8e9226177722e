"""``articles.hidden_unpublic``: the article was not public when an editor hid it.

An unhide alerts an article that was never public (hidden before its time, approved after
it) and read "never public" from the row it clears: hidden at or before its *current*
``published_at``. A correction from the CMS that moved a hidden scheduled article's time to
before the hide made it look public since then, and the unhide alerted nobody; an article
hidden while the source held it back (a draft) and published under the hide, likewise. The
hide now records whether the article was public at that moment (scheduled or withdrawn: not);
a later hide of a hidden article keeps it, the unhide clears it.

Rows hidden at the upgrade get what the old rule read from them: hidden at or before their
``published_at``, or while withdrawn by the source.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): the SQLite FTS triggers on ``articles`` stay as they are
    op.add_column(
        "articles",
        sa.Column("hidden_unpublic", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE articles SET hidden_unpublic = TRUE WHERE hidden_at IS NOT NULL"
        " AND (hidden_at <= published_at"
        " OR (withdrawn_at IS NOT NULL AND withdrawn_at <= hidden_at))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE articles DROP COLUMN hidden_unpublic")
