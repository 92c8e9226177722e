"""``feed_polls``: feed polls per topic and local day, for the admin's "what people follow"
(issue 16 §3). Counted in memory where feeds are served and added here once a minute.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_polls",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic_slug", sa.String(length=100), nullable=False),
        sa.Column("polls", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "topic_slug", name="pk_feed_polls"),
    )


def downgrade() -> None:
    op.drop_table("feed_polls")
