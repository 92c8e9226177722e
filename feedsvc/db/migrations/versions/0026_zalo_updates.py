"""``zalo_updates``: the Zalo updates already acted on (tester4 G1).

Zalo redelivers an update (a webhook retry after a timeout or a 5xx, a replayed POST, the same
update through long polling after the webhook, a copy at each replica behind one URL) and each
copy was executed: a replayed ``/unsub 1`` removed a second subscription the user never named.
The bot now records each update's key (the chat and Zalo's ``message_id``) here with an insert
that skips a conflict, and acts only when its insert made the row: the state DB decides, across
restarts and replicas. Rows older than two days are pruned by the bot.

No rows at first: nothing was recorded before.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 05:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_updates",
        sa.Column("chat", sa.String(length=100), nullable=False),
        sa.Column("update_key", sa.String(length=100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat", "update_key", name="pk_zalo_updates"),
    )
    op.create_index("ix_zalo_updates_seen_at", "zalo_updates", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_zalo_updates_seen_at", table_name="zalo_updates")
    op.drop_table("zalo_updates")
