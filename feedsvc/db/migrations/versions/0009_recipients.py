"""Recipients of any channel (issue 14 §1): ``chats.channel`` and ``chats.address``.

A ``chats`` row is one recipient, (channel, address): ``telegram`` (the chat id as text),
``zalo`` (the Zalo Bot chat id, a string) or ``apprise`` (an Apprise URL, a secret). ``chat_id``
stays the key subscriptions and deliveries reference: Telegram rows keep Telegram's id (migrated
in place, nothing renumbered); other channels' rows get ids from 2**53 up, a range Telegram never
uses (its ids have at most 52 significant bits). UNIQUE(channel, address) makes "one delivery per
(recipient, article)" hold per channel through the existing UNIQUE(chat_id, article_id).

Plain ``ALTER TABLE … ADD COLUMN`` on SQLite too: a batch copy of ``chats`` would drop and
re-create the table its subscriptions and deliveries cascade from. SQLite needs a default for a
NOT NULL column added this way, so ``address`` keeps ``DEFAULT ''`` there (inserts through
``db/schema.py`` always give the address); PostgreSQL drops it after the backfill.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "chats",
        sa.Column("channel", sa.String(length=20), nullable=False, server_default="telegram"),
    )
    op.add_column("chats", sa.Column("address", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE chats SET address = CAST(chat_id AS TEXT)")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("chats", "address", server_default=None)
    op.create_index("ix_chats_channel_address", "chats", ["channel", "address"], unique=True)


def downgrade() -> None:
    # an older feedsvc would take other channels' recipients for Telegram chats: drop them
    op.execute("DELETE FROM chats WHERE channel <> 'telegram'")
    op.drop_index("ix_chats_channel_address", table_name="chats")
    op.execute("ALTER TABLE chats DROP COLUMN address")
    op.execute("ALTER TABLE chats DROP COLUMN channel")
