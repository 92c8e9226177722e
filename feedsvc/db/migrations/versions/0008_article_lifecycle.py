"""The article lifecycle (issue 13 §1–§2): withdrawn and hidden articles.

``articles.withdrawn_at`` / ``withdrawn_reason``: the SOURCE took the article back (``source``: an
imported line said ``"withdrawn": true``; ``draft``: the CMS row's ``visible`` expression is
false; ``deleted``: reconciliation found the row gone). NULL: the source publishes it.
``articles.hidden_at`` / ``hidden_reason`` / ``hidden_by``: an EDITOR hid it; only ``unhide``
clears it, whatever the source says. An article is public when neither is set and its
``published_at`` is not in the future (decided at read time; no column for "scheduled").

``source_articles.withdrawn``: the built-in source's flag, written by ``feedsvc import``.
``ix_source_articles_published_at``: reconciliation reads the recent window of the built-in
source by ``published_at`` (bounded, indexed). Deliveries gain no column: a queued delivery of
an article that is no longer public ends in the new terminal state ``withdrawn``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


_ARTICLE_COLUMNS = ("withdrawn_at", "withdrawn_reason", "hidden_at", "hidden_reason", "hidden_by")


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): the SQLite FTS triggers on ``articles`` stay as they are
    op.add_column("articles", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("articles", sa.Column("withdrawn_reason", sa.String(length=20), nullable=True))
    op.add_column("articles", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("articles", sa.Column("hidden_reason", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("hidden_by", sa.String(length=100), nullable=True))
    op.add_column(
        "source_articles",
        sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(op.f("ix_source_articles_published_at"), "source_articles", ["published_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_source_articles_published_at"), "source_articles")
    op.execute("ALTER TABLE source_articles DROP COLUMN withdrawn")
    for name in reversed(_ARTICLE_COLUMNS):
        op.execute(f"ALTER TABLE articles DROP COLUMN {name}")
