"""``deliveries.retry_kind``: why an alert still queued waits to be tried again.

A delivery whose last try failed was shown as "the last try did not go through; it will be
tried again" whatever happened: a 429 pause, a network error, an answer that never came (the
re-send may arrive twice), a parse error (re-sent as plain text), a group upgraded to a
supergroup, a deleted forum thread, an article moved into the future. The dispatcher now
records which (:data:`feedsvc.delivery_states.RETRY_KINDS`) and the admin words each.

Existing rows get NULL: the general words, as before.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("retry_kind", sa.String(20), nullable=True))


def downgrade() -> None:
    # no batch rebuild: on SQLite a rebuilt ``deliveries`` cascades into ``alert_followups``
    # (its history of retractions and corrections; 0028's downgrade alike)
    op.execute("ALTER TABLE deliveries DROP COLUMN retry_kind")
