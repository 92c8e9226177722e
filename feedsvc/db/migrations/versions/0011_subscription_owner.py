"""``subscriptions.created_by``: who created a subscription, for the per-user cap (issue 12 §2).

A channel-neutral user key, ``"<channel>:<user id>"`` (``telegram:42``), set by the bots; NULL
for subscriptions made by an operator (CLI, API, admin) and for every row that existed before,
so the cap counts only what users created from now on. Indexed: the bot counts a user's rows on
every ``/sub``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("created_by", sa.String(length=100), nullable=True))
    op.create_index("ix_subscriptions_created_by", "subscriptions", ["created_by"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_created_by", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("created_by")
