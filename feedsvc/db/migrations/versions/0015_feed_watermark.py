"""``feed_watermark``: what the stored feed snapshots are known to show, so a restart serves them
at once and renders before serving only the topics that changed since (issue 17).

One row (``name = 'feeds'``): ``rendered_through``, a moment by which every change to the state
DB had been rendered into ``feed_snapshots``; ``fingerprint``, the settings and feedsvc version
the snapshots were rendered with; ``topics_digest``, the topic list the index page shows.

Existing databases get no row: their next start renders every topic, as before, and writes it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_watermark",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("rendered_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("topics_digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_feed_watermark"),
    )


def downgrade() -> None:
    op.drop_table("feed_watermark")
